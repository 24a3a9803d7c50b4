import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout. Callers log ids, names and sizes; prompt text, user input and model output
 * are only logged through `aiPayloadFields` when the user's `expanded_ai_logging` flag is on.
 */
export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    base: { pid: process.pid, process: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers["private-token"]', '*.token'], censor: '[redacted]' },
  });
}
