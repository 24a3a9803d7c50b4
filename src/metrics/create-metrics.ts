import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** How an AI job ended, as the worker reports it. */
export type JobOutcome = 'success' | 'error' | 'cancelled' | 'expired';

/** Labels of GitLab's `gitlab_cloud_cost_spend_entry_total` (the AI gateway's label set). */
export interface TokenSpend {
  /** `anthropic`, `vertex-ai`, `self_hosted`, `fake`. */
  vendor: string;
  /** Model id as the provider reported it. */
  model: string;
  /** `<model>/prompt` or `<model>/completion`, as GitLab labels it. */
  item: string;
  /** `tokens` (or `characters` where a vendor bills by character). */
  unit: string;
  /** GitLab feature category, e.g. `duo_chat`, `code_suggestions`, `ai_abstraction_layer`. */
  featureCategory: string;
}

/** Where code-suggestion telemetry came from; GitLab counted both the body and the `X-GitLab-CS-*` headers. */
export interface CodeSuggestionsTelemetry {
  /** Model engine of the previous suggestions (`vertex-ai`, `anthropic`…); `''` when unknown. */
  modelEngine: string;
  /** Model name of the previous suggestions; `''` when unknown. */
  modelName: string;
  requests: number;
  accepts: number;
  errors: number;
}

/** Typed metric operations; the registry is exposed for `/metrics` and for extra collectors (circuit breakers). */
export interface Metrics {
  /** The registry every metric below is registered in; one per `createMetrics()` call, never the global one. */
  readonly registry: Registry;
  /** One HTTP request answered: `route` is the route template (never the raw URL, to bound label cardinality). */
  observeHttpRequest(route: string, method: string, status: number, durationSeconds: number): void;
  /** One AI action request accepted (the `aiAction` mutation or a REST call), counted per action. */
  countAiAction(action: string): void;
  /** A finished AI job: duration histogram, outcome counter and the `llm_completion` SLI (apdex + error rate). */
  observeJob(action: string, durationSeconds: number, outcome: JobOutcome): void;
  /** Time from job start (or request start) to the first streamed chunk. */
  observeFirstChunk(action: string, seconds: number): void;
  /** Adds `units` to `gitlab_cloud_cost_spend_entry_total`. */
  countTokens(spend: TokenSpend, units: number): void;
  /** Waiting jobs per queue, set by whoever polls the queue. */
  setQueueDepth(queue: string, depth: number): void;
  /** A request refused by a rate limit (`aiAction`, `code_suggestions_api_endpoint`…). */
  countRateLimited(endpoint: string): void;
  /** Previous-suggestion telemetry sent by the editor extension. */
  countCodeSuggestionsTelemetry(telemetry: CodeSuggestionsTelemetry): void;
  /** Language of a code-suggestions prompt, from the file extension (`lang` `''` when unknown). */
  countPromptLanguage(lang: string, extension: string): void;
  /** One model call for code suggestions: count, duration and prompt size. */
  observeCodeSuggestionsInference(
    labels: { modelEngine: string; modelName: string },
    durationSeconds: number,
    promptBytes: number,
  ): void;
}

export interface CreateMetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event-loop lag). Default true; tests may turn it off. */
  defaultMetrics?: boolean;
  /** Labels added to every series, e.g. `{ process: 'api' }`. */
  defaultLabels?: Record<string, string>;
}

/**
 * The apdex threshold of GitLab's `llm_completion` SLI: a completion within 30 s is satisfactory. The bucket
 * edges sit around it so `le="30"` reads the apdex directly; 60 and 120 s cover the long tail of chat answers.
 */
const llmCompletionBuckets = [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
const llmCompletionApdexThresholdSeconds = 30;
/** HTTP latencies: the code-suggestions hot path sits in the low milliseconds, model calls in seconds. */
const httpBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** First streamed chunk: users notice anything above a second or two. */
const firstChunkBuckets = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30];
/** GitLab AI-assist's `code_suggestions_inference_prompt_size_bytes` buckets: 32 … 4096 bytes, doubling. */
const promptSizeBuckets = [32, 64, 128, 256, 512, 1024, 2048, 4096];
/** Code completions answer within a second or two; the 30 s edge is the provider timeout. */
const inferenceBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** Creates a registry with every metric of the API and the worker. */
export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, per route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency per route and method.',
    labelNames: ['route', 'method'] as const,
    buckets: httpBuckets,
    registers,
  });
  const aiActions = new Counter({
    name: 'ai_action_requests_total',
    help: 'AI action requests accepted, per action.',
    labelNames: ['action'] as const,
    registers,
  });
  const jobs = new Counter({
    name: 'ai_action_jobs_total',
    help: 'AI jobs finished, per action and outcome.',
    labelNames: ['action', 'outcome'] as const,
    registers,
  });
  const jobDuration = new Histogram({
    name: 'ai_action_job_duration_seconds',
    help: 'AI job duration per action and outcome.',
    labelNames: ['action', 'outcome'] as const,
    buckets: llmCompletionBuckets,
    registers,
  });
  const llmCompletionDuration = new Histogram({
    name: 'gitlab_sli_llm_completion_duration_seconds',
    help: 'llm_completion SLI: completion duration; the apdex threshold is the 30 s bucket.',
    labelNames: ['action'] as const,
    buckets: llmCompletionBuckets,
    registers,
  });
  const apdexTotal = new Counter({
    name: 'gitlab_sli_llm_completion_apdex_total',
    help: 'llm_completion SLI: completions measured for apdex.',
    labelNames: ['action'] as const,
    registers,
  });
  const apdexSuccess = new Counter({
    name: 'gitlab_sli_llm_completion_apdex_success_total',
    help: 'llm_completion SLI: successful completions within 30 s.',
    labelNames: ['action'] as const,
    registers,
  });
  const errorRateTotal = new Counter({
    name: 'gitlab_sli_llm_completion_total',
    help: 'llm_completion SLI: completions measured for the error rate.',
    labelNames: ['action'] as const,
    registers,
  });
  const errorRateErrors = new Counter({
    name: 'gitlab_sli_llm_completion_error_total',
    help: 'llm_completion SLI: completions that failed.',
    labelNames: ['action'] as const,
    registers,
  });
  const firstChunk = new Histogram({
    name: 'ai_action_first_chunk_seconds',
    help: 'Time to the first streamed chunk, per action.',
    labelNames: ['action'] as const,
    buckets: firstChunkBuckets,
    registers,
  });
  const costSpend = new Counter({
    name: 'gitlab_cloud_cost_spend_entry_total',
    help: 'Number of units spent per vendor entry',
    labelNames: ['vendor', 'model', 'item', 'unit', 'feature_category'] as const,
    registers,
  });
  const queueDepth = new Gauge({
    name: 'ai_queue_depth',
    help: 'Jobs waiting per queue.',
    labelNames: ['queue'] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: 'rate_limited_requests_total',
    help: 'Requests refused by a rate limit, per endpoint.',
    labelNames: ['endpoint'] as const,
    registers,
  });
  // GitLab AI-assist's names and labels (no `_total`: prometheus_client added it, prom-client does not).
  const telemetryLabels = ['model_engine', 'model_name'] as const;
  const suggestionRequests = new Counter({
    name: 'code_suggestions_requests',
    help: 'Requests count by number',
    labelNames: telemetryLabels,
    registers,
  });
  const suggestionAccepts = new Counter({
    name: 'code_suggestions_accepts',
    help: 'Accepts count by number',
    labelNames: telemetryLabels,
    registers,
  });
  const suggestionErrors = new Counter({
    name: 'code_suggestions_errors',
    help: 'Errors count by number',
    labelNames: telemetryLabels,
    registers,
  });
  const promptLanguage = new Counter({
    name: 'code_suggestions_prompt_language',
    help: 'Language count by number',
    labelNames: ['lang', 'extension'] as const,
    registers,
  });
  const inferenceRequests = new Counter({
    name: 'code_suggestions_inference_requests',
    help: 'Number of times an inference request was made',
    labelNames: telemetryLabels,
    registers,
  });
  const inferenceDuration = new Histogram({
    name: 'code_suggestions_inference_request_duration_seconds',
    help: 'Duration of the inference request in seconds',
    labelNames: telemetryLabels,
    buckets: inferenceBuckets,
    registers,
  });
  const promptSize = new Histogram({
    name: 'code_suggestions_inference_prompt_size_bytes',
    help: 'Size of the prompt of an inference request in bytes',
    labelNames: telemetryLabels,
    buckets: promptSizeBuckets,
    registers,
  });

  return {
    registry,
    observeHttpRequest(route, method, status, durationSeconds) {
      httpRequests.inc({ route, method, status: String(status) });
      httpDuration.observe({ route, method }, durationSeconds);
    },
    countAiAction(action) {
      aiActions.inc({ action });
    },
    observeJob(action, durationSeconds, outcome) {
      jobs.inc({ action, outcome });
      jobDuration.observe({ action, outcome }, durationSeconds);
      // A cancelled job says nothing about the service's health: it counts in neither SLI.
      if (outcome === 'cancelled') return;
      llmCompletionDuration.observe({ action }, durationSeconds);
      errorRateTotal.inc({ action });
      if (outcome === 'error') errorRateErrors.inc({ action });
      apdexTotal.inc({ action });
      if (outcome === 'success' && durationSeconds <= llmCompletionApdexThresholdSeconds) apdexSuccess.inc({ action });
    },
    observeFirstChunk(action, seconds) {
      firstChunk.observe({ action }, seconds);
    },
    countTokens(spend, units) {
      if (units <= 0) return;
      costSpend.inc(
        {
          vendor: spend.vendor,
          model: spend.model,
          item: spend.item,
          unit: spend.unit,
          feature_category: spend.featureCategory,
        },
        units,
      );
    },
    setQueueDepth(queue, depth) {
      queueDepth.set({ queue }, depth);
    },
    countRateLimited(endpoint) {
      rateLimited.inc({ endpoint });
    },
    countCodeSuggestionsTelemetry(telemetry) {
      const labels = { model_engine: telemetry.modelEngine, model_name: telemetry.modelName };
      // prom-client rejects negative increments; the schema already refuses them, this keeps the counter safe.
      if (telemetry.requests > 0) suggestionRequests.inc(labels, telemetry.requests);
      if (telemetry.accepts > 0) suggestionAccepts.inc(labels, telemetry.accepts);
      if (telemetry.errors > 0) suggestionErrors.inc(labels, telemetry.errors);
    },
    countPromptLanguage(lang, extension) {
      promptLanguage.inc({ lang, extension });
    },
    observeCodeSuggestionsInference(labels, durationSeconds, promptBytes) {
      const promLabels = { model_engine: labels.modelEngine, model_name: labels.modelName };
      inferenceRequests.inc(promLabels);
      inferenceDuration.observe(promLabels, durationSeconds);
      promptSize.observe(promLabels, promptBytes);
    },
  };
}
