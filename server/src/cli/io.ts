// The CLI's only view of the outside world: two text sinks, so tests run commands in-process.

/** Something text can be written to: `process.stdout`, or a buffer in tests. */
export interface TextSink {
  write(text: string): unknown;
}

export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
}

/** Write `text` followed by a newline. */
export function writeLine(sink: TextSink, text = ''): void {
  sink.write(`${text}\n`);
}
