import { z } from 'zod';
import { defineAiAction } from './define-ai-action.ts';
import { quoteData, resourceHeading } from './describe-resource.ts';
import { globalIdField, nonBlankText } from './input-fields.ts';

/** GitLab's cap on an issue, merge request or epic description (`Issuable::DESCRIPTION_LENGTH_MAX`, 1 MiB). */
export const maxDescriptionLength = 1_048_576;

/** A template name is a file name under `.gitlab/issue_templates/`: at most 255 characters. */
export const maxTemplateNameLength = 255;

export const generateDescriptionAction = defineAiAction({
  name: 'generateDescription',
  actionName: 'generate_description',
  description: 'Write a description for an issue, merge request or epic from the short notes the author typed.',
  maturity: 'experimental',
  graphqlInputName: 'AiGenerateDescriptionInput',
  input: z.object({
    resourceId: globalIdField('AiModelID'),
    content: nonBlankText(maxDescriptionLength),
    descriptionTemplateName: nonBlankText(maxTemplateNameLength).optional(),
  }),
  resourceTypes: ['Issue', 'MergeRequest', 'Epic', 'Project'],
  resourceRequired: true,
  selfManaged: false,
  internal: false,
  unitPrimitive: 'generate_issue_description',
  featureFlag: 'generate_description',
  rateLimitClass: 'ai_action',
  promptVariables: ['resource', 'content'],
  storesInChatHistory: false,
  exampleInput: {
    resourceId: 'gid://gitlab/Project/1',
    content: 'pipeline page stops updating after force push, have to reload',
  },
  // `descriptionTemplateName` is accepted, as GitLab does, but not used yet: this service has no store of
  // project description templates (GitLab reads them from the repository), and GitLab itself carries on
  // without a template it cannot find.
  async plan({ input, resource }) {
    if (!resource || resource.type === 'User') {
      return { kind: 'answer', content: 'I am sorry, I am unable to find what you are looking for.' };
    }
    return {
      kind: 'prompt',
      variables: {
        resource: quoteData(resourceHeading(resource), 'resource'),
        content: quoteData(input.content, 'notes'),
      },
    };
  },
});
