import { type AuthClient, GoogleAuth, type GoogleAuthOptions } from 'google-auth-library';
import { LlmError } from '../../errors.ts';

const cloudPlatformScope = 'https://www.googleapis.com/auth/cloud-platform';

export interface VertexAuthOptions {
  /** A ready client, e.g. an `OAuth2Client` holding an access token (tests) or a workload-identity client. */
  authClient?: AuthClient;
  /** Service-account JSON (GitLab's `vertex_ai_credentials`); Application Default Credentials when absent. */
  credentials?: GoogleAuthOptions['credentials'];
  project: string;
  provider: string;
}

export interface VertexAuth {
  /** The authorised client, with a valid access token (fetched or refreshed now when needed). */
  authorizedClient(): Promise<AuthClient>;
}

/**
 * One token source for both the SDK calls and our own `:predict` fetch. The token is checked before each call
 * so a credentials problem surfaces as `LlmError('auth')`, not as an anonymous SDK failure mid-request.
 * google-auth-library caches the token and refreshes it shortly before expiry (Google tokens live 60 min;
 * GitLab refreshed at 59).
 */
export function createVertexAuth(options: VertexAuthOptions): VertexAuth {
  const googleAuth = options.authClient
    ? undefined
    : new GoogleAuth({
        scopes: [cloudPlatformScope],
        projectId: options.project,
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      });
  let client: Promise<AuthClient> | undefined;

  function getClient(): Promise<AuthClient> {
    if (options.authClient) return Promise.resolve(options.authClient);
    if (!client) {
      client = googleAuth!.getClient();
      // A failed lookup (no ADC yet) is not cached: the next call tries again.
      client.catch(() => {
        client = undefined;
      });
    }
    return client;
  }

  return {
    async authorizedClient() {
      try {
        const authClient = await getClient();
        await authClient.getAccessToken();
        return authClient;
      } catch (error) {
        throw new LlmError({
          code: 'auth',
          provider: options.provider,
          message: 'Could not obtain a Google access token for Vertex AI.',
          cause: error,
        });
      }
    },
  };
}
