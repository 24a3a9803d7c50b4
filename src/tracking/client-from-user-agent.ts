/**
 * GitLab's `client` of an AI event, from the User-Agent (reference §6.7). The IDE extension running in
 * the browser (platform origin `vs_code_extension` with a web user agent) is the Web IDE.
 */
export function clientFromUserAgent(userAgent: string | null | undefined, platformOrigin?: string | null): string {
  const agent = userAgent ?? '';
  let client = 'web';
  if (/gitlab-jetbrains-plugin.*bundled|jetbrains.*bundled/i.test(agent)) client = 'jetbrains_bundled';
  else if (/vs ?code|visual studio code|gitlab-vscode/i.test(agent)) client = 'vscode';
  else if (/jetbrains|intellij/i.test(agent)) client = 'jetbrains';
  else if (/visual ?studio/i.test(agent)) client = 'visual_studio';
  else if (/neovim|nvim/i.test(agent)) client = 'neovim';
  else if (/glab/i.test(agent)) client = 'gitlab_cli';
  if (client === 'web' && platformOrigin === 'vs_code_extension') return 'web_ide';
  return client;
}
