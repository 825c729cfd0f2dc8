// Help texts for `gatehouse` and each command, and the error a bad command line raises.

export const MAIN_USAGE = `Usage: gatehouse <command> [options]

Commands:
  serve      run the policy decision point (gRPC and HTTP)
  validate   check a policy directory and report every problem
  test       run the policy test files of a directory
  check      answer one question against a policy directory, with its explanation
  import     write a policy directory from an OpenFGA or SpiceDB model
  export     print a policy directory's schema as an OpenFGA or SpiceDB model

Options:
  -h, --help     show this help, or a command's help: gatehouse <command> --help
  -V, --version  print the version

Exit codes: 0 success, 1 failure, 2 denied (check), 64 usage error.`;

export const VALIDATE_USAGE = `Usage: gatehouse validate DIR [--strict] [--relationships FILE]...

Load every *.yaml / *.yml policy file under DIR, compile the schema and check every
relationship and test string. Prints "ok: N files, T types, R relationships", or every
problem as file:line:column: message. Warnings (such as a permission that can never be
true) are printed as file:line:column: warning: message and do not fail validation.

Options:
  --strict              treat warnings as errors
  --relationships FILE  relationships a server stores (one per line, '#' comments), e.g. before
                        a schema change: report each one the schema can no longer hold
                        (file:line, relationship, why). Repeat for several files.

Exit codes: 0 valid, 1 invalid, unreadable, warnings with --strict or orphaned
relationships, 64 usage error.`;

export const TEST_USAGE = `Usage: gatehouse test DIR

Run every kind: test file under DIR, each against a fresh store holding the policy set's
relationships plus the file's fixtures. Prints one PASS/FAIL line per file, each failing
assertion with its file:line, and "N passed, M failed".

Exit codes: 0 all passed, 1 any failure or invalid policies, 64 usage error.`;

export const CHECK_USAGE = `Usage: gatehouse check DIR RESOURCE#PERMISSION@SUBJECT [--context JSON] [--now RFC3339]

Load DIR and answer one check against its relationship files, printing "allowed",
"denied" or "conditional" and the explanation tree. Types of namespaced files are written
in full:
  gatehouse check policies 'team_crm/contact:prospect1#view@team_crm/user:mike'

  --context JSON   values for condition parameters, such as '{"ip":"10.1.2.3"}'
  --now RFC3339    the request time expiring relationships are judged against (default: now)

Exit codes: 0 allowed, 2 denied, 3 conditional (context missing), 1 invalid policies or
request, 64 usage error.`;

export const IMPORT_USAGE = `Usage: gatehouse import openfga MODEL.fga|model.json [--tuples FILE] --out DIR
       gatehouse import spicedb SCHEMA.zed|validation.yaml --out DIR

Write a Gatehouse policy directory (schema.yaml, relationships.yaml, imported.test.yaml)
from another system's model: OpenFGA's DSL or JSON model with tuples (YAML or JSON list of
{object, relation, user, condition?}); a SpiceDB schema, or a validation file with its
relationships and assertTrue / assertFalse / assertCaveated / validation entries. OpenFGA
conditions and SpiceDB caveats become conditions (CEL as is), expirations stay on their
relationships. Each construct carries a comment saying what it came from. What cannot be
imported (a condition Gatehouse cannot compile, '.all()' arrows) is listed on stderr and in
the schema file's header, never dropped silently. DIR must not hold
the files already; nothing is written if the result does not compile.

Exit codes: 0 imported, 1 unreadable or not importable, 64 usage error.`;

export const EXPORT_USAGE = `Usage: gatehouse export openfga|spicedb DIR

Print the schema of the policy directory DIR as an OpenFGA model (schema 1.1 DSL) or a
SpiceDB schema. Deletion consequences (if_emptied_by_delete) have no equivalent there and are
written as comments.

Exit codes: 0 printed, 1 invalid policies, 64 usage error.`;

/** A bad command line: reported with the relevant usage text, exit code 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}
