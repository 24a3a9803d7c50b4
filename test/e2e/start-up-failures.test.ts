import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

async function startWorker(environment: Record<string, string>) {
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/start-worker.ts'], {
      env: { ...process.env, LOG_LEVEL: 'silent', ...environment },
      timeout: 60_000,
    });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}

describe('start-up stops with one clear line', () => {
  it('on a bad environment variable', async () => {
    const result = await startWorker({ PORT: 'eighty' });
    expect(result.code).toBe(78);
    expect(result.stderr.trim()).toMatch(/^Invalid environment variable PORT="eighty": /);
  });

  it('on a prompt definition with an unknown placeholder', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'broken-prompts-'));
    try {
      for (const feature of ['chat', 'explain_code', 'summarize_comments']) {
        mkdirSync(path.join(directory, feature));
        writeFileSync(
          path.join(directory, feature, 'base.yml'),
          'name: x\nprompt_template:\n  user: "{nothing_provides_this}"\n',
        );
      }
      const result = await startWorker({ PROMPT_DEFINITIONS_DIR: directory });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/uses \{nothing_provides_this\}, which \w+ does not provide/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
