// Process exit codes of `gatehouse`, in one place so commands, docs and tests agree.

/** Success; for `check`, the request is allowed. */
export const EXIT_OK = 0;
/** Invalid policies, failing policy tests, unreadable input, or an engine error. */
export const EXIT_FAILURE = 1;
/** `check` only: evaluated fine, and the answer is "denied" (so scripts can branch on it). */
export const EXIT_DENIED = 2;
/** `check` only: the answer is "conditional": it depends on context the request did not give. */
export const EXIT_CONDITIONAL = 3;
/** Unknown command or flag, or missing arguments (EX_USAGE from sysexits.h). */
export const EXIT_USAGE = 64;
