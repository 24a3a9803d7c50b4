import { describe, expect, it } from 'vitest';
import { clientFromUserAgent } from '../../src/tracking/client-from-user-agent.ts';

describe('clientFromUserAgent', () => {
  it.each([
    ['gitlab-vscode-extension/5.1.0 VS Code/1.95.0', undefined, 'vscode'],
    ['gitlab-jetbrains-plugin/3.0 IntelliJ IDEA/2024.3', undefined, 'jetbrains'],
    ['gitlab-jetbrains-plugin/3.0 bundled', undefined, 'jetbrains_bundled'],
    ['GitLabExtension Visual Studio/17.8', undefined, 'visual_studio'],
    ['gitlab.vim neovim/0.10', undefined, 'neovim'],
    ['glab/1.45', undefined, 'gitlab_cli'],
    ['Mozilla/5.0 (X11; Linux x86_64) Chrome/131', undefined, 'web'],
    ['Mozilla/5.0 (X11; Linux x86_64) Chrome/131', 'vs_code_extension', 'web_ide'],
    [null, null, 'web'],
  ])('%s (%s) → %s', (userAgent, platformOrigin, client) => {
    expect(clientFromUserAgent(userAgent, platformOrigin)).toBe(client);
  });
});
