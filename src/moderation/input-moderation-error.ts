const inputModerationErrorMarker = Symbol.for('duo-ai-layer.InputModerationError');

/** `flagged`: the input broke a rule or the provider flagged it. `unavailable`: the moderation provider failed. */
export type InputModerationFailure = 'flagged' | 'unavailable';

/**
 * Thrown before any model call when an input may not be sent. The message is safe to show the user (GitLab's
 * wording: "Provided input violates OpenAI's Content Policy"); `categories` says which rules or provider
 * categories matched, never the matched text.
 */
export class InputModerationError extends Error {
  override name = 'InputModerationError';
  readonly [inputModerationErrorMarker] = true;
  readonly failure: InputModerationFailure;
  readonly feature: string;
  readonly categories: readonly string[];

  constructor(options: {
    failure: InputModerationFailure;
    feature: string;
    message: string;
    categories?: readonly string[];
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.failure = options.failure;
    this.feature = options.feature;
    this.categories = options.categories ?? [];
  }

  /** Works across duplicated module copies, where `instanceof` fails. */
  static isInstance(value: unknown): value is InputModerationError {
    return typeof value === 'object' && value !== null && inputModerationErrorMarker in value;
  }
}
