import { documentationLinks } from './documentation-sources.ts';
import type { AiMessage } from './graphql-api.ts';

export type FeedbackOption = 'helpful' | 'unhelpful';

export interface ChatViewActions {
  feedback(messageId: string, option: FeedbackOption): Promise<void>;
  cancel(requestId: string): Promise<void>;
}

/**
 * The conversation as DOM. Every piece of text from the server (questions, chunks, errors, tool names, source
 * titles) is set with `textContent`; the one exception is a final answer's `contentHtml`, which the server
 * rendered from Markdown with raw HTML disabled and then sanitized (see {@link showSanitizedHtml}).
 */
export interface ChatView {
  showUserMessage(message: AiMessage): void;
  /** An answer this tab is waiting for (nothing streamed yet). */
  showPending(requestId: string): void;
  removePending(requestId: string): void;
  showToolNotice(requestId: string, toolName: string): void;
  showStreamingText(requestId: string, text: string): void;
  showFinal(message: AiMessage): void;
  /** `/clear`: the conversation is gone, in every tab. */
  clear(): void;
  showError(text: string): void;
  /** Shows the newest message (after the history loaded, or when the reader sends a question). */
  scrollToEnd(): void;
}

const answerState = {
  pending: 'pending',
  streaming: 'streaming',
  final: 'final',
} as const;

function formatTime(timestamp: string): { iso: string; text: string } {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return { iso: '', text: '' };
  return { iso: date.toISOString(), text: date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) };
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  if (className) created.className = className;
  if (text !== undefined) created.textContent = text;
  return created;
}

/**
 * The only place model output becomes markup: `contentHtml` of a final message, which the server produced with
 * markdown-it (`html: false`) and sanitize-html (a tag and attribute allow-list, http/https/mailto links only).
 * The page's Content-Security-Policy runs no inline script even if that ever failed.
 */
function showSanitizedHtml(target: HTMLElement, contentHtml: string): void {
  target.innerHTML = contentHtml;
  for (const link of target.querySelectorAll('a[href]')) {
    link.setAttribute('target', '_blank');
    link.setAttribute('rel', 'noopener noreferrer nofollow');
  }
}

export function createChatView(list: HTMLOListElement, actions: ChatViewActions): ChatView {
  const answers = new Map<string, HTMLLIElement>();
  const shownIds = new Set<string>();

  /** Keeps the newest message in view while the reader is at the bottom; leaves them alone if they scrolled up. */
  const scroller = list.parentElement ?? list;

  function withScroll(change: () => void): void {
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
    change();
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  function header(author: string, timestamp: string): HTMLElement {
    const meta = element('div', 'message-meta');
    meta.append(element('span', 'message-author', author));
    const time = formatTime(timestamp);
    if (time.iso) {
      const timeElement = element('time', 'message-time', time.text);
      timeElement.dateTime = time.iso;
      meta.append(' ', timeElement);
    }
    return meta;
  }

  function answerFor(requestId: string, timestamp = new Date().toISOString()): HTMLLIElement {
    let item = answers.get(requestId);
    if (item) return item;
    item = element('li', 'message message-assistant');
    item.dataset.requestId = requestId;
    item.dataset.state = answerState.pending;
    item.setAttribute('aria-busy', 'true');
    const content = element('div', 'message-content');
    content.append(element('span', 'typing', 'GitLab Duo is thinking…'));
    item.append(header('GitLab Duo', timestamp), element('ul', 'message-tools'), content);
    answers.set(requestId, item);
    // An answer follows its question, even when its first part arrives before the question does.
    const question = list.querySelector<HTMLLIElement>(`li.message-user[data-request-id="${CSS.escape(requestId)}"]`);
    if (question) question.after(item);
    else list.append(item);
    return item;
  }

  function contentOf(item: HTMLLIElement): HTMLElement {
    return item.querySelector<HTMLElement>('.message-content') as HTMLElement;
  }

  function addStopButton(item: HTMLLIElement, requestId: string): void {
    if (item.querySelector('.stop')) return;
    const stop = element('button', 'stop secondary', 'Stop');
    stop.type = 'button';
    stop.setAttribute('aria-label', 'Stop generating this answer');
    stop.addEventListener('click', () => {
      stop.disabled = true;
      void actions.cancel(requestId).catch(() => {
        stop.disabled = false;
      });
    });
    item.append(stop);
  }

  function feedbackControls(message: AiMessage): HTMLElement {
    const group = element('div', 'feedback');
    if (message.extras?.hasFeedback) {
      group.append(element('p', 'feedback-done', 'Feedback sent. Thank you.'));
      return group;
    }
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', 'Was this answer helpful?');
    const buttons = (
      [
        ['helpful', 'Helpful'],
        ['unhelpful', 'Not helpful'],
      ] as const
    ).map(([option, label]) => {
      const button = element('button', 'secondary feedback-button', label);
      button.type = 'button';
      button.dataset.feedback = option;
      button.addEventListener('click', () => {
        for (const each of buttons) each.disabled = true;
        actions.feedback(message.id, option).then(
          () => group.replaceChildren(element('p', 'feedback-done', 'Feedback sent. Thank you.')),
          (error: unknown) => {
            for (const each of buttons) each.disabled = false;
            group.append(element('p', 'error-text', error instanceof Error ? error.message : 'Feedback failed.'));
          },
        );
      });
      return button;
    });
    group.append(...buttons);
    return group;
  }

  return {
    showUserMessage(message) {
      if (shownIds.has(message.id)) return;
      shownIds.add(message.id);
      withScroll(() => {
        const content = (message.content ?? '').trim();
        if (content === '/reset') {
          const marker = element('li', 'message message-reset');
          marker.dataset.requestId = message.requestId;
          marker.textContent = 'New conversation: GitLab Duo no longer considers the messages above.';
          list.append(marker);
          return;
        }
        const item = element('li', 'message message-user');
        item.dataset.requestId = message.requestId;
        item.dataset.messageId = message.id;
        item.append(header('You', message.timestamp), element('div', 'message-content', message.content ?? ''));
        const answer = answers.get(message.requestId);
        if (answer) answer.before(item);
        else list.append(item);
      });
    },

    showPending(requestId) {
      withScroll(() => {
        const item = answerFor(requestId);
        if (item.dataset.state !== answerState.final) addStopButton(item, requestId);
      });
    },

    removePending(requestId) {
      const item = answers.get(requestId);
      if (item?.dataset.state === answerState.pending) {
        item.remove();
        answers.delete(requestId);
      }
    },

    showToolNotice(requestId, toolName) {
      withScroll(() => {
        const item = answerFor(requestId);
        if (item.dataset.state === answerState.final) return;
        item.querySelector('.message-tools')?.append(element('li', 'tool-notice', `Using ${toolName}…`));
      });
    },

    showStreamingText(requestId, text) {
      withScroll(() => {
        const item = answerFor(requestId);
        if (item.dataset.state === answerState.final) return;
        item.dataset.state = answerState.streaming;
        // Chunks are plain text until the final message replaces them with the rendered answer.
        contentOf(item).textContent = text;
        addStopButton(item, requestId);
      });
    },

    showFinal(message) {
      if (shownIds.has(message.id)) return;
      shownIds.add(message.id);
      withScroll(() => {
        const item = answerFor(message.requestId, message.timestamp);
        item.dataset.state = answerState.final;
        item.dataset.messageId = message.id;
        item.dataset.status = message.extras?.status ?? 'COMPLETED';
        item.removeAttribute('aria-busy');
        item.querySelector('.stop')?.remove();
        item.querySelector('.message-tools')?.remove();
        const content = contentOf(item);
        const errors = message.errors ?? [];
        if (message.contentHtml !== null && errors.length === 0) {
          showSanitizedHtml(content, message.contentHtml);
        } else {
          content.textContent = message.content ?? '';
        }
        if (message.extras?.status === 'CANCELLED') {
          item.append(element('p', 'status-text', 'You stopped this answer.'));
        }
        for (const error of errors) item.append(element('p', 'error-text', error));

        const links = documentationLinks(message.extras?.sources);
        if (links.length > 0) {
          const sources = element('div', 'message-sources');
          sources.append(element('h3', 'sources-title', 'Sources'));
          const listOfLinks = element('ul');
          for (const link of links) {
            const entry = element('li');
            if (link.href) {
              const anchor = element('a', undefined, link.title);
              anchor.href = link.href;
              anchor.target = '_blank';
              anchor.rel = 'noopener noreferrer nofollow';
              entry.append(anchor);
            } else {
              entry.textContent = link.title;
            }
            listOfLinks.append(entry);
          }
          sources.append(listOfLinks);
          item.append(sources);
        }
        if (message.extras?.status !== 'CANCELLED' && message.id) item.append(feedbackControls(message));
      });
    },

    clear() {
      list.replaceChildren();
      answers.clear();
      const note = element('li', 'message message-reset', 'Conversation cleared.');
      list.append(note);
    },

    showError(text) {
      withScroll(() => {
        const item = element('li', 'message message-error');
        item.setAttribute('role', 'alert');
        item.textContent = text;
        list.append(item);
      });
    },

    scrollToEnd() {
      scroller.scrollTop = scroller.scrollHeight;
    },
  };
}
