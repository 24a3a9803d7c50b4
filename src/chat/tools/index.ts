import { buildReader } from './build-reader.ts';
import type { ChatTool } from './chat-tool.ts';
import { ciEditorAssistant } from './ci-editor-assistant.ts';
import { epicReader } from './epic-reader.ts';
import { gitlabDocumentation } from './gitlab-documentation.ts';
import { issueReader } from './issue-reader.ts';
import { mergeRequestReader } from './merge-request-reader.ts';

/** The Duo Chat agent's tools, in the order the prompt lists them. A new tool is one file plus one line here. */
export const chatTools: readonly ChatTool[] = [
  issueReader,
  epicReader,
  mergeRequestReader,
  buildReader,
  gitlabDocumentation,
  ciEditorAssistant,
];
