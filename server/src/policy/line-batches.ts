// The lines of a text stream, a batch per chunk read: what readline gives (with crlfDelay
// Infinity: '\n', '\r\n' and a lone '\r' each end a line, and a last line needs no break), but
// with one await per chunk instead of one per line, which cost a bulk file of a million lines
// about as much CPU as parsing them.

/** Splits `text` at each line break: '\r\n', '\n' or a lone '\r'. */
function splitLines(text: string): string[] {
  return text.includes('\r') ? text.split(/\r\n|\n|\r/) : text.split('\n');
}

/**
 * The lines of `chunks` (decoded text, as a stream with an encoding yields it), in order, in
 * batches: every line of a batch is complete, and the last line is yielded even without a break.
 */
export async function* lineBatches(chunks: AsyncIterable<string>): AsyncGenerator<string[]> {
  let partial = '';
  // A chunk that ended in '\r' may have its '\n' at the start of the next: one break, not two.
  let endedWithCr = false;
  for await (const chunk of chunks) {
    if (chunk === '') continue;
    const text: string = endedWithCr && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    endedWithCr = text.endsWith('\r');
    const lines = splitLines(partial + text);
    partial = lines.pop() as string;
    if (lines.length > 0) yield lines;
  }
  if (partial !== '') yield [partial];
}
