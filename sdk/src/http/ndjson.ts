// Splits a byte stream of newline-delimited JSON into parsed values, one per non-empty line.

/** Yield each JSON value of an NDJSON body; a line that is not JSON throws `malformed(line)`. */
export async function* readNdjson(
  body: ReadableStream<Uint8Array>,
  malformed: (line: string, cause: unknown) => Error,
): AsyncIterable<unknown> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') yield parseLine(line, malformed);
        newline = buffered.indexOf('\n');
      }
      if (done) break;
    }
    const last = buffered.trim();
    if (last !== '') yield parseLine(last, malformed);
  } finally {
    // Releases the connection when the consumer stops early.
    await reader.cancel().catch(() => undefined);
  }
}

function parseLine(line: string, malformed: (line: string, cause: unknown) => Error): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw malformed(line, err);
  }
}
