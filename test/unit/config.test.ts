import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('has embedded defaults that need no environment at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      METRICS_PORT: 8082,
      redisUrl: 'redis://127.0.0.1:6379',
      useFakeModels: true,
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it.each([
    ['PORT', 'eighty', /^Invalid environment variable PORT="eighty": /],
    ['PORT', '70000', /^Invalid environment variable PORT="70000": /],
    ['REDIS_URL', 'http://localhost', /^Invalid environment variable REDIS_URL="http:\/\/localhost": must be a redis/],
    ['DATABASE_URL', 'mysql://x', /^Invalid environment variable DATABASE_URL="mysql:\/\/x": must be a postgres/],
    ['USE_FAKE_MODELS', 'maybe', /^Invalid environment variable USE_FAKE_MODELS="maybe"/],
    ['LOG_LEVEL', 'loud', /^Invalid environment variable LOG_LEVEL="loud"/],
  ])('a bad %s stops start-up with one line naming it', (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('treats empty values as unset and picks real providers when keys are configured', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-test' }).useFakeModels).toBe(false);
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-test', USE_FAKE_MODELS: 'true' }).useFakeModels).toBe(true);
  });
});
