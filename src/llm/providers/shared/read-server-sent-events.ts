/** One Server-Sent Event: the `event:` name when present and the joined `data:` lines. */
export interface ServerSentEvent {
  event: string | undefined;
  data: string;
}

/**
 * Parses a `text/event-stream` body per the WHATWG rules we need: `\n`, `\r\n` or `\r` line ends, multi-line
 * `data:`, comment lines (`:`) ignored, one event per blank line. Stopping iteration early cancels the body,
 * which closes the connection, so an abandoned stream does not keep the upstream generating.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let dataLines: string[] = [];
  let finished = false;

  function* takeLines(flush: boolean): Generator<ServerSentEvent> {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A trailing `\r` may be the first half of `\r\n`: wait for the next chunk unless flushing.
      if (!match || (match[0] === '\r' && match.index === buffer.length - 1 && !flush)) break;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (dataLines.length > 0) yield { event, data: dataLines.join('\n') };
        event = undefined;
        dataLines = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') dataLines.push(value);
      else if (field === 'event') event = value;
    }
  }

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        buffer += decoder.decode();
        yield* takeLines(true);
        // An event not closed by a blank line at EOF is dropped, as the spec requires.
        finished = true;
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      yield* takeLines(false);
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
