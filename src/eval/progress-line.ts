/**
 * A one-line progress bar on a terminal (`\r`, no dependency); off a terminal (CI logs) a line at every tenth.
 */
export function createProgressLine(stream: NodeJS.WritableStream & { isTTY?: boolean }, total: number) {
  const startedAt = Date.now();
  let lastTenth = -1;
  let startDone: number | undefined;
  return {
    update(done: number, failed: number): void {
      startDone ??= done;
      const fraction = total === 0 ? 1 : done / total;
      const width = 30;
      const filled = Math.round(fraction * width);
      const ranThisTime = done - startDone;
      const remaining = ranThisTime > 0 ? ((Date.now() - startedAt) / ranThisTime) * (total - done) : undefined;
      const eta = remaining === undefined ? '' : `  eta ${Math.ceil(remaining / 1_000)} s`;
      const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} cases${failed ? `, ${failed} failed` : ''}${eta}`;
      if (stream.isTTY) {
        stream.write(`\r${text}\x1b[K`);
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        stream.write(`${text}\n`);
      }
    },
    end(): void {
      if (stream.isTTY) stream.write('\n');
    },
  };
}
