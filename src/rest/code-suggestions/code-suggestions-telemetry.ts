import type { IncomingMessage } from 'node:http';
import type { CodeSuggestionsTelemetry } from '../../metrics/create-metrics.ts';
import type { CompletionsRequest } from './completions-request.ts';

function counterHeader(request: IncomingMessage, name: string): number | undefined {
  const raw = request.headers[name];
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * The editor's counters for its previous suggestions. GitLab AI-assist read the `X-GitLab-CS-Accepts`,
 * `-Requests` and `-Errors` headers only when all three are present (the Rails proxy forwards them), and the
 * body's `telemetry` items otherwise.
 */
export function telemetryFrom(request: IncomingMessage, body: CompletionsRequest): CodeSuggestionsTelemetry[] {
  const requests = counterHeader(request, 'x-gitlab-cs-requests');
  const accepts = counterHeader(request, 'x-gitlab-cs-accepts');
  const errors = counterHeader(request, 'x-gitlab-cs-errors');
  if (requests !== undefined && accepts !== undefined && errors !== undefined) {
    return [{ modelEngine: '', modelName: '', requests, accepts, errors }];
  }
  return body.telemetry.map((item) => ({
    modelEngine: item.model_engine ?? '',
    modelName: item.model_name ?? '',
    requests: item.requests,
    accepts: item.accepts,
    errors: item.errors,
  }));
}
