import { type ChatSession, startChatSession } from './chat-session.ts';
import { createChatView } from './chat-view.ts';
import { type ConnectionState, type CurrentUser, currentUserQuery, graphqlFetch } from './graphql-api.ts';
import { attachSlashCommandHints } from './slash-command-hints.ts';

/** The token lives in this tab's session storage only: gone when the tab closes, never in a URL or a cookie. */
const tokenStorageKey = 'duo-chat:token';
/** `gid://gitlab/<Type>/<id>`, with `::` in namespaced types such as `Ci::Build`. */
const globalIdPattern = /^gid:\/\/gitlab\/[A-Z][A-Za-z]*(?:::[A-Z][A-Za-z]*)*\/\d+$/;

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

const signInSection = byId<HTMLElement>('sign-in');
const signInForm = byId<HTMLFormElement>('sign-in-form');
const tokenInput = byId<HTMLInputElement>('token');
const tokenError = byId<HTMLElement>('token-error');
const chatSection = byId<HTMLElement>('chat');
const account = byId<HTMLElement>('account');
const userName = byId<HTMLElement>('user-name');
const connectionStatus = byId<HTMLElement>('connection-status');
const signOutButton = byId<HTMLButtonElement>('sign-out');
const messages = byId<HTMLOListElement>('messages');
const composer = byId<HTMLFormElement>('composer');
const prompt = byId<HTMLTextAreaElement>('prompt');
const sendButton = byId<HTMLButtonElement>('send');
const resourceInput = byId<HTMLInputElement>('resource');
const resourceError = byId<HTMLElement>('resource-error');
const hints = attachSlashCommandHints(prompt, byId('slash-hints'), byId('hints-status'));

let session: ChatSession | undefined;
let connected = false;

const connectionLabels: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Connection lost, reconnecting…',
};

function setConnectionState(state: ConnectionState): void {
  connected = state === 'connected';
  connectionStatus.textContent = connectionLabels[state];
  connectionStatus.dataset.state = state;
  // Sending waits for the subscriptions' socket, so no chunk of the answer is published before they listen.
  sendButton.disabled = !connected;
}

function showSignIn(reason = ''): void {
  session?.close();
  session = undefined;
  sessionStorage.removeItem(tokenStorageKey);
  chatSection.hidden = true;
  account.hidden = true;
  signInSection.hidden = false;
  tokenError.textContent = reason;
  messages.replaceChildren();
  tokenInput.focus();
}

async function signIn(token: string): Promise<void> {
  tokenError.textContent = '';
  let user: CurrentUser | null;
  try {
    user = (await graphqlFetch<{ currentUser: CurrentUser | null }>(currentUserQuery, {}, token)).currentUser;
  } catch (error) {
    showSignIn(error instanceof Error ? error.message : 'Sign-in failed.');
    return;
  }
  if (!user) {
    showSignIn('This token was not accepted. Check that it is a valid personal access token.');
    return;
  }
  sessionStorage.setItem(tokenStorageKey, token);
  tokenInput.value = '';
  signInSection.hidden = true;
  chatSection.hidden = false;
  account.hidden = false;
  userName.textContent = `${user.name} (@${user.username})`;
  messages.replaceChildren();
  setConnectionState('connecting');
  const view = createChatView(messages, {
    feedback: (messageId, option) => session?.feedback(messageId, option) ?? Promise.resolve(),
    cancel: (requestId) => session?.cancel(requestId) ?? Promise.resolve(),
  });
  session = startChatSession({
    token,
    user,
    view,
    onConnectionState: setConnectionState,
    onSignedOut: (reason) => showSignIn(reason),
  });
  chatSection.dataset.clientSubscriptionId = session.clientSubscriptionId;
  prompt.focus();
}

signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = tokenInput.value.trim();
  if (token === '') {
    tokenError.textContent = 'Enter a personal access token.';
    tokenInput.focus();
    return;
  }
  void signIn(token);
});

signOutButton.addEventListener('click', () => showSignIn());

// Following a fragment link does not focus a form control in every browser: focus it explicitly.
byId<HTMLAnchorElement>('skip-link').addEventListener('click', (event) => {
  if (chatSection.hidden) return;
  event.preventDefault();
  prompt.focus();
});

function submitPrompt(): void {
  const content = prompt.value.trim();
  if (content === '' || !session || !connected) return;
  const resourceId = resourceInput.value.trim();
  if (resourceId !== '' && !globalIdPattern.test(resourceId)) {
    resourceError.textContent = 'Use a global id such as gid://gitlab/Issue/1, or leave the field empty.';
    resourceInput.setAttribute('aria-invalid', 'true');
    resourceInput.focus();
    return;
  }
  resourceError.textContent = '';
  resourceInput.removeAttribute('aria-invalid');
  prompt.value = '';
  hints.close();
  void session.send(content, resourceId === '' ? undefined : resourceId);
}

composer.addEventListener('submit', (event) => {
  event.preventDefault();
  submitPrompt();
});

prompt.addEventListener('keydown', (event) => {
  if (event.isComposing) return;
  if (hints.handleKey(event)) {
    event.preventDefault();
    return;
  }
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    submitPrompt();
  }
});

const savedToken = sessionStorage.getItem(tokenStorageKey);
if (savedToken) void signIn(savedToken);
else showSignIn();
