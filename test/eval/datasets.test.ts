import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGitlabDuoWorld } from '../../seeds/gitlab-duo-world.ts';
import { DatasetError, loadDataset } from '../../src/eval/dataset.ts';
import { generatedDatasetFiles } from '../../src/eval/question-templates.ts';

const folder = mkdtempSync(path.join(tmpdir(), 'eval-datasets-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('evaluation datasets', () => {
  it('are up to date with the evaluation world (npm run eval:datasets)', () => {
    for (const [name, content] of Object.entries(generatedDatasetFiles(loadGitlabDuoWorld()))) {
      expect(readFileSync(path.join('eval/datasets', name), 'utf8'), name).toBe(content);
    }
  });

  it('cross templates with resources, with the facts as reference answers', async () => {
    const issues = await loadDataset('eval/datasets/issues.jsonl');
    expect(issues).toHaveLength(10 * 6);
    expect(issues.find((evalCase) => evalCase.id === 'issue-1004-author')).toEqual({
      id: 'issue-1004-author',
      template: 'Who is the author of %<ref>s?',
      question: 'Who is the author of gitlab-duo/fleet-agent#1?',
      resourceId: null,
      referenceAnswer: 'The author is Kenji Watanabe (@kenji.watanabe).',
      expectedTools: ['IssueReader'],
      expectedSources: null,
    });
    const status = issues.find((evalCase) => evalCase.id === 'issue-1002-status');
    expect(status?.question).toBe(
      'What is the status of https://gitlab.example.com/gitlab-duo/tanuki-shop/-/issues/3?',
    );
    expect(status?.referenceAnswer).toMatch(/^Closed\./);
    expect(issues.find((evalCase) => evalCase.id === 'issue-1000-summarize-this')?.resourceId).toBe(
      'gid://gitlab/Issue/1000',
    );
    const code = await loadDataset('eval/datasets/code-tasks.jsonl');
    expect(new Set(code.map((evalCase) => evalCase.template))).toEqual(
      new Set(['/explain', '/tests', '/refactor', '/fix']),
    );
    expect(code.every((evalCase) => evalCase.currentFile?.selectedText)).toBe(true);
  });

  it('read the shared documentation questions in place through an include', async () => {
    const documentation = await loadDataset('eval/datasets/documentation.jsonl');
    expect(documentation).toHaveLength(50);
    expect(documentation[0]).toMatchObject({
      id: 'doc-q001',
      template: 'Documentation question',
      expectedSources: ['user/profile/user_passwords.md'],
    });
    const all = await loadDataset('eval/datasets/all.jsonl');
    expect(all).toHaveLength(60 + 15 + 15 + 6 + 8 + 50);
    expect((await loadDataset('eval/datasets/smoke.jsonl')).map((evalCase) => evalCase.id)).toEqual([
      'issue-1000-summarize-this',
      'epic-1000-status',
      'merge-request-1000-changes',
      'build-1000-failure-this',
      'code-explain-ruby',
    ]);
  });

  it('name the line of a broken case, a duplicate id, or a missing file', async () => {
    const broken = path.join(folder, 'broken.jsonl');
    writeFileSync(broken, '{"id":"a","question":"q","reference_answer":"r"}\n{"id":"b","question":""}\n');
    await expect(loadDataset(broken)).rejects.toThrow(/broken\.jsonl:2: question/);
    const twice = path.join(folder, 'twice.jsonl');
    writeFileSync(twice, '{"id":"a","question":"q","reference_answer":"r"}\n{"include":"twice-inner.jsonl"}\n');
    writeFileSync(path.join(folder, 'twice-inner.jsonl'), '{"id":"a","question":"q2","reference_answer":"r2"}\n');
    await expect(loadDataset(twice)).rejects.toThrow('case id a appears twice');
    await expect(loadDataset(path.join(folder, 'missing.jsonl'))).rejects.toBeInstanceOf(DatasetError);
  });
});
