import { z } from 'zod';

/** Marks a string field as a GraphQL ID scalar in the generated input type. */
export function globalIdField(graphqlType: 'AiModelID' | 'NamespaceID' | 'ProjectID') {
  return z.string().meta({ graphqlType });
}

/** A required string that may not be blank, with GitLab's length limit. */
export function nonBlankText(maxLength: number) {
  return (
    z
      .string()
      .max(maxLength, { error: `is too long (maximum is ${maxLength} characters)` })
      .refine((value) => value.trim().length > 0, { error: "can't be blank" })
      // Postgres text cannot hold U+0000 (threads, history exports): refused here rather than failing later.
      .refine((value) => !value.includes('\u0000'), { error: 'must not contain NUL characters' })
  );
}
