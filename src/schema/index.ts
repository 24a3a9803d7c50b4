// Imports every type file for its side effect of registering on the builder; exports only the schema.
import './scalars.ts';
import './ai-message.ts';
import './ai-action.ts';
import './ai-cancel.ts';
import './ai-completion-response.ts';
import './user.ts';
import './ai-messages.ts';
import './ai-conversation-threads.ts';
import './feature-flag.ts';
import './group-ai-settings.ts';
import './ai-provider-status.ts';
import './ai-tracking-events.ts';
import { printSchema } from 'graphql';
import { builder } from './builder.ts';

export const schema = builder.toSchema({ sortSchema: true });
export const printedSchema = printSchema(schema);
