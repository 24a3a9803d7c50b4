/** What users read when the database or Redis is briefly unreachable: clean, and worth retrying. */
export const serviceUnavailableMessage = 'The AI service is temporarily unavailable. Try again later.';

const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTCONN',
  // Postgres: admin shutdown, cannot connect now, connection failure / does not exist / exception.
  '57P01',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

const connectionMessages =
  /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error|Stream isn't writeable|Connection is closed|MaxRetriesPerRequest|Reached the max retries per request/i;

/**
 * Whether an error (or any error in its `cause` chain: drizzle wraps driver errors) means a backing
 * service could not be reached, as opposed to a bug or bad input.
 */
export function isInfrastructureUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 8; depth++) {
    if (typeof current !== 'object') return false;
    const { code, message, name, cause } = current as {
      code?: unknown;
      message?: unknown;
      name?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && connectionCodes.has(code)) return true;
    if (name === 'MaxRetriesPerRequestError' || name === 'RedisUnavailableError') return true;
    if (typeof message === 'string' && connectionMessages.test(message)) return true;
    current = cause;
  }
  return false;
}
