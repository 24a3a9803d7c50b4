import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { createFakeProvider, type FakeProvider } from '../../src/llm/providers/fake/fake-provider.ts';
import { createRedisNamespace } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { fakeRegistry, postJson, type RestHarness, seedExampleBody, startRestHarness } from './rest-harness.ts';

const namespace = createRedisNamespace();
const auth = { authorization: `Bearer ${devToken('developer')}` };
let database: DatabaseHandle;
let harness: RestHarness;
let fake: FakeProvider;
let answer = ' bool:\n    return n % 2 == 0\n';

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  fake = createFakeProvider({ respond: () => answer });
  harness = await startRestHarness({
    database,
    prefix: namespace.prefix,
    providers: fakeRegistry(fake),
    // The contract tests send hundreds of requests as one user; the limit has its own test file.
    environment: { CODE_SUGGESTIONS_RATE_LIMIT: '100000' },
  });
});

afterAll(async () => {
  await harness?.close();
  await database?.close();
  await namespace.cleanup();
});

function completions(body: unknown, headers: Record<string, string> = auth, path = '/v2/completions') {
  return postJson(`${harness.baseUrl}${path}`, body, headers);
}

function bodyWith(patch: (body: Record<string, unknown>) => void) {
  const body = structuredClone(seedExampleBody()) as Record<string, unknown>;
  patch(body);
  return body;
}

function file(body: Record<string, unknown>) {
  return body.current_file as Record<string, unknown>;
}

interface Detail {
  loc: (string | number)[];
  msg: string;
  type: string;
}

function details(response: { body: unknown }): Detail[] {
  return (response.body as { detail: Detail[] }).detail;
}

describe('POST /v2/completions: the seed contract', () => {
  it('answers the seed example request with the documented shape', async () => {
    answer = ' bool:\n    return n % 2 == 0\n';
    const response = await completions(seedExampleBody());
    expect(response.status).toBe(200);
    const body = response.body as Record<string, unknown>;
    expect(body).toEqual({
      id: 'id',
      model: { engine: 'fake', name: 'fake-model', lang: 'python' },
      experiments: [],
      object: 'text_completion',
      created: expect.any(Number),
      choices: [{ text: ' bool:\n    return n % 2 == 0\n', index: 0, finish_reason: 'length' }],
    });
    expect(Math.abs((body.created as number) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('serves the same contract on the /v2/code/completions alias', async () => {
    const response = await completions(seedExampleBody(), auth, '/v2/code/completions');
    expect(response.status).toBe(200);
    expect((response.body as { object: string }).object).toBe('text_completion');
  });

  it('answers an empty suggestion with `choices: []`', async () => {
    answer = '';
    const response = await completions(seedExampleBody());
    answer = ' bool:\n    return n % 2 == 0\n';
    expect(response.status).toBe(200);
    expect((response.body as { choices: unknown[] }).choices).toEqual([]);
  });

  it('streams raw text chunks as text/event-stream when stream is true', async () => {
    answer = 'return n % 2 == 0';
    const response = await completions(bodyWith((body) => Object.assign(body, { stream: true })));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.text).toBe('return n % 2 == 0');
    expect(response.text).not.toContain('data:');
  });

  it('reports the language from the extension, then from the editor language id', async () => {
    const cases: [string, string | undefined, string][] = [
      ['main.go', undefined, 'go'],
      ['lib/App.tsx', undefined, 'ts'],
      ['widget.H', undefined, 'cpp'],
      ['x.h', undefined, 'c'],
      ['Makefile', undefined, ''],
      ['notes', 'typescriptreact', 'ts'],
    ];
    for (const [fileName, languageIdentifier, lang] of cases) {
      const response = await completions(
        bodyWith((body) => {
          file(body).file_name = fileName;
          if (languageIdentifier) file(body).language_identifier = languageIdentifier;
        }),
      );
      expect((response.body as { model: { lang: string } }).model.lang, fileName).toBe(lang);
    }
  });
});

describe('POST /v2/completions: field limits (at the limit passes, one over is a 422)', () => {
  const limits: {
    name: string;
    loc: string[];
    limit: number;
    set: (body: Record<string, unknown>, value: string) => void;
  }[] = [
    {
      name: 'file_name',
      loc: ['current_file', 'file_name'],
      limit: 255,
      set: (body, v) => {
        file(body).file_name = v;
      },
    },
    {
      name: 'content_above_cursor',
      loc: ['current_file', 'content_above_cursor'],
      limit: 100_000,
      set: (body, v) => {
        file(body).content_above_cursor = v;
      },
    },
    {
      name: 'content_below_cursor',
      loc: ['current_file', 'content_below_cursor'],
      limit: 100_000,
      set: (body, v) => {
        file(body).content_below_cursor = v;
      },
    },
    {
      name: 'project_path',
      loc: ['project_path'],
      limit: 255,
      set: (body, v) => {
        body.project_path = v;
      },
    },
    {
      name: 'model_name',
      loc: ['model_name'],
      limit: 50,
      set: (body, v) => {
        body.model_name = v;
      },
    },
    {
      name: 'telemetry.model_engine',
      loc: ['telemetry', '0', 'model_engine'],
      limit: 50,
      set: (body, v) => {
        (body.telemetry as Record<string, unknown>[])[0]!.model_engine = v;
      },
    },
    {
      name: 'telemetry.model_name',
      loc: ['telemetry', '0', 'model_name'],
      limit: 50,
      set: (body, v) => {
        (body.telemetry as Record<string, unknown>[])[0]!.model_name = v;
      },
    },
    {
      name: 'telemetry.lang',
      loc: ['telemetry', '0', 'lang'],
      limit: 50,
      set: (body, v) => {
        (body.telemetry as Record<string, unknown>[])[0]!.lang = v;
      },
    },
  ];

  for (const { name, loc, limit, set } of limits) {
    it(`${name}: ${limit} characters pass, ${limit + 1} fail`, async () => {
      const ok = await completions(bodyWith((body) => set(body, 'a'.repeat(limit))));
      expect(ok.status).toBe(200);
      const over = await completions(bodyWith((body) => set(body, 'a'.repeat(limit + 1))));
      expect(over.status).toBe(422);
      const [detail] = details(over);
      expect(detail?.loc.map(String)).toEqual(['body', ...loc]);
      expect(detail?.type).toBe('string_too_long');
      expect(detail?.msg).toBe(`String should have at most ${limit} characters`);
    });
  }

  it('file_name and project_path are measured after stripping whitespace', async () => {
    const padded = `  ${'a'.repeat(255)}  `;
    const response = await completions(
      bodyWith((body) => {
        file(body).file_name = padded;
        body.project_path = padded;
      }),
    );
    expect(response.status).toBe(200);
  });

  it('telemetry: 10 items pass, 11 fail', async () => {
    const item = seedExampleBody().telemetry[0];
    const ok = await completions(
      bodyWith((body) => {
        body.telemetry = Array(10).fill(item);
      }),
    );
    expect(ok.status).toBe(200);
    const over = await completions(
      bodyWith((body) => {
        body.telemetry = Array(11).fill(item);
      }),
    );
    expect(over.status).toBe(422);
    expect(details(over)[0]).toMatchObject({ loc: ['body', 'telemetry'], type: 'too_long' });
  });

  it('context: 100 items pass, 101 fail', async () => {
    const item = { type: 'file', name: 'util.py', content: 'def helper():\n    pass\n' };
    const ok = await completions(
      bodyWith((body) => {
        body.context = Array(100).fill(item);
      }),
    );
    expect(ok.status).toBe(200);
    const over = await completions(
      bodyWith((body) => {
        body.context = Array(101).fill(item);
      }),
    );
    expect(over.status).toBe(422);
    expect(details(over)[0]).toMatchObject({ loc: ['body', 'context'], type: 'too_long' });
  });

  it('choices_count: 4 passes, 5 fails; several choices of the same text collapse to one', async () => {
    const ok = await completions(
      bodyWith((body) => {
        body.choices_count = 4;
      }),
    );
    expect(ok.status).toBe(200);
    expect((ok.body as { choices: unknown[] }).choices).toHaveLength(1);
    const over = await completions(
      bodyWith((body) => {
        body.choices_count = 5;
      }),
    );
    expect(over.status).toBe(422);
    expect(details(over)[0]).toMatchObject({ loc: ['body', 'choices_count'], type: 'less_than_equal' });
  });

  it('prompt_version must be 1 or 2; model_provider one of the known providers', async () => {
    const version = await completions(
      bodyWith((body) => {
        body.prompt_version = 7;
      }),
    );
    expect(details(version)[0]).toMatchObject({
      loc: ['body', 'prompt_version'],
      type: 'literal_error',
      msg: 'Input should be 1 or 2',
    });
    const provider = await completions(
      bodyWith((body) => {
        body.model_provider = 'openai';
      }),
    );
    expect(details(provider)[0]).toMatchObject({ loc: ['body', 'model_provider'], type: 'literal_error' });
  });
});

describe('POST /v2/completions: missing fields and wrong types', () => {
  for (const field of ['file_name', 'content_above_cursor', 'content_below_cursor']) {
    it(`current_file.${field} is required`, async () => {
      const response = await completions(bodyWith((body) => void delete file(body)[field]));
      expect(response.status).toBe(422);
      expect(details(response)).toEqual([
        { loc: ['body', 'current_file', field], msg: 'Field required', type: 'missing' },
      ]);
    });
  }

  it('current_file is required', async () => {
    const response = await completions(bodyWith((body) => void delete body.current_file));
    expect(details(response)).toEqual([{ loc: ['body', 'current_file'], msg: 'Field required', type: 'missing' }]);
  });

  it('an empty object reports current_file missing; unknown fields are ignored', async () => {
    expect(details(await completions({}))).toEqual([
      { loc: ['body', 'current_file'], msg: 'Field required', type: 'missing' },
    ]);
    const extra = await completions(bodyWith((body) => Object.assign(body, { intent: 'completion', whatever: 1 })));
    expect(extra.status).toBe(200);
  });

  it('wrong types get pydantic type errors', async () => {
    const cases: [string, (body: Record<string, unknown>) => void, string[], string][] = [
      [
        'file_name number',
        (body) => {
          file(body).file_name = 42;
        },
        ['current_file', 'file_name'],
        'string_type',
      ],
      [
        'project_id string',
        (body) => {
          body.project_id = 'abc';
        },
        ['project_id'],
        'int_type',
      ],
      [
        'project_id float',
        (body) => {
          body.project_id = 1.5;
        },
        ['project_id'],
        'int_from_float',
      ],
      [
        'stream string',
        (body) => {
          body.stream = 'yes';
        },
        ['stream'],
        'bool_type',
      ],
      [
        'telemetry object',
        (body) => {
          body.telemetry = {};
        },
        ['telemetry'],
        'list_type',
      ],
      [
        'current_file string',
        (body) => {
          body.current_file = 'x';
        },
        ['current_file'],
        'model_attributes_type',
      ],
      [
        'telemetry.requests missing',
        (body) => void delete (body.telemetry as Record<string, unknown>[])[0]!.requests,
        ['telemetry', '0', 'requests'],
        'missing',
      ],
      [
        'telemetry.accepts negative',
        (body) => {
          (body.telemetry as Record<string, unknown>[])[0]!.accepts = -1;
        },
        ['telemetry', '0', 'accepts'],
        'greater_than_equal',
      ],
    ];
    for (const [name, patch, loc, type] of cases) {
      const response = await completions(bodyWith(patch));
      expect(response.status, name).toBe(422);
      const [detail] = details(response);
      expect(detail?.loc.map(String), name).toEqual(['body', ...loc]);
      expect(detail?.type, name).toBe(type);
    }
  });

  it('a body that is not JSON is a 422 json_invalid', async () => {
    const response = await completions('{"current_file": ');
    expect(response.status).toBe(422);
    expect(details(response)[0]).toMatchObject({ loc: ['body', 0], type: 'json_invalid' });
  });

  it('other methods get 405', async () => {
    const response = await fetch(`${harness.baseUrl}/v2/completions`, { headers: auth });
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({ detail: 'Method Not Allowed' });
  });

  it('validation failures never reach the model', async () => {
    const before = fake.calls.length;
    await completions(
      bodyWith((body) => {
        file(body).file_name = 'a'.repeat(256);
      }),
    );
    expect(fake.calls.length).toBe(before);
  });
});
