import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { projects } from './projects.ts';

export interface VulnerabilityLocation {
  file: string;
  startLine: number;
  endLine?: number;
  /** The vulnerable source lines, when the scanner captured them. */
  snippet?: string;
}

export interface VulnerabilityIdentifier {
  type: string;
  name: string;
  value: string;
  url?: string;
}

export const vulnerabilities = pgTable(
  'vulnerabilities',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    severity: text('severity', { enum: ['info', 'unknown', 'low', 'medium', 'high', 'critical'] }).notNull(),
    reportType: text('report_type').notNull(),
    state: text('state', { enum: ['detected', 'confirmed', 'resolved', 'dismissed'] })
      .notNull()
      .default('detected'),
    location: jsonb('location').$type<VulnerabilityLocation>().notNull(),
    identifiers: jsonb('identifiers').$type<VulnerabilityIdentifier[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('vulnerabilities_project_id_idx').on(table.projectId)],
);

export type Vulnerability = typeof vulnerabilities.$inferSelect;
