// `npm run start:model-worker`: the GPU model worker, run beside an OpenAI-compatible model server (vLLM, TGI,
// Ollama, llama.cpp). It only opens outbound connections (Redis and the model server), so the GPU host needs
// no inbound traffic. Exits 78 (EX_CONFIG) on a bad environment, like the other entry points.
import { createOpenAICompatibleProvider } from '../llm/providers/openai-compatible/openai-compatible-provider.ts';
import { createLogger } from '../logger.ts';
import { createModelWorker } from './model-worker.ts';
import { loadModelWorkerConfig, type ModelWorkerConfig, ModelWorkerConfigError } from './model-worker-config.ts';

let config: ModelWorkerConfig;
try {
  config = loadModelWorkerConfig();
} catch (error) {
  if (!(error instanceof ModelWorkerConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}

const logger = createLogger({ level: config.LOG_LEVEL, name: 'model-worker' });
const provider = createOpenAICompatibleProvider({
  name: 'self_hosted',
  baseURL: config.MODEL_SERVER_URL,
  defaultModel: config.MODEL_NAME,
  ...(config.MODEL_SERVER_API_KEY ? { apiKey: config.MODEL_SERVER_API_KEY } : {}),
});
const worker = createModelWorker({
  redisUrl: config.REDIS_URL,
  keyPrefix: config.REDIS_KEY_PREFIX,
  model: config.MODEL_NAME,
  concurrency: config.MODEL_WORKER_CONCURRENCY,
  provider,
  logger,
});
await worker.ready();
logger.info(
  { model: config.MODEL_NAME, concurrency: config.MODEL_WORKER_CONCURRENCY, server: config.MODEL_SERVER_URL },
  `model worker ready for ${config.MODEL_NAME} with ${config.MODEL_WORKER_CONCURRENCY} GPU slots`,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'model worker stopping: finishing running jobs');
  await worker.close(config.SHUTDOWN_TIMEOUT_MS);
  logger.info('model worker stopped');
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
