// Loads every table for drizzle's relational queries and for drizzle-kit; exports no values of its own.

export * from './ai-conversation-threads.ts';
export * from './ai-feature-settings.ts';
export * from './ai-usage.ts';
export * from './ci-builds.ts';
export * from './documentation-chunks.ts';
export * from './epics.ts';
export * from './feature-flags.ts';
export * from './groups.ts';
export * from './issues.ts';
export * from './members.ts';
export * from './merge-requests.ts';
export * from './notes.ts';
export * from './projects.ts';
export * from './tracking-events.ts';
export * from './users.ts';
export * from './vulnerabilities.ts';
