/** Duo Chat's slash commands, with GitLab's descriptions (the server's `/help` lists the same). */
export const slashCommands: readonly { name: string; description: string }[] = [
  { name: '/explain', description: 'Explain the code' },
  { name: '/tests', description: 'Write tests for the code' },
  { name: '/refactor', description: 'Refactor the code' },
  { name: '/fix', description: 'Fix any errors in the code' },
  { name: '/troubleshoot', description: 'Troubleshoot a job based on the logs (with a CI job as context)' },
  { name: '/summarize_comments', description: 'Summarize the comments of the current issue or epic' },
  { name: '/help', description: 'Learn what GitLab Duo Chat can do' },
  { name: '/reset', description: 'Start a new conversation; earlier messages are not sent to the model' },
  { name: '/clear', description: 'Delete all messages in this conversation' },
];

export interface SlashCommandHints {
  /** Handles a key in the message box; true when the hints used it (the caller must not act on it). */
  handleKey(event: KeyboardEvent): boolean;
  close(): void;
}

/**
 * The hint list shown while the message box holds only `/` and the start of a command: an ARIA listbox the box
 * controls (`aria-activedescendant`), so arrow keys move through it without leaving the box, Enter or Tab pick,
 * Escape closes, and a click picks too.
 */
export function attachSlashCommandHints(
  textarea: HTMLTextAreaElement,
  listbox: HTMLElement,
  announcer: HTMLElement,
): SlashCommandHints {
  let matches: typeof slashCommands = [];
  let active = 0;

  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', listbox.id);
  textarea.setAttribute('aria-expanded', 'false');

  function render(): void {
    listbox.replaceChildren(
      ...matches.map((command, index) => {
        const option = document.createElement('li');
        option.id = `${listbox.id}-${index}`;
        option.setAttribute('role', 'option');
        option.setAttribute('aria-selected', String(index === active));
        const name = document.createElement('span');
        name.className = 'hint-name';
        name.textContent = command.name;
        const description = document.createElement('span');
        description.className = 'hint-description';
        description.textContent = command.description;
        option.append(name, description);
        // mousedown, not click: the box keeps its focus.
        option.addEventListener('mousedown', (event) => {
          event.preventDefault();
          pick(index);
        });
        return option;
      }),
    );
    const open = matches.length > 0;
    listbox.hidden = !open;
    textarea.setAttribute('aria-expanded', String(open));
    if (open) textarea.setAttribute('aria-activedescendant', `${listbox.id}-${active}`);
    else textarea.removeAttribute('aria-activedescendant');
  }

  function update(): void {
    const value = textarea.value;
    const typing = /^\/[a-z_]*$/i.test(value);
    const previous = matches.length;
    matches = typing ? slashCommands.filter((command) => command.name.startsWith(value.toLowerCase())) : [];
    if (matches.length === 1 && matches[0]?.name === value) matches = [];
    active = Math.min(active, Math.max(0, matches.length - 1));
    render();
    if (matches.length !== previous) {
      announcer.textContent =
        matches.length === 0
          ? ''
          : `${matches.length} command${matches.length === 1 ? '' : 's'} available; use the arrow keys to choose.`;
    }
  }

  function pick(index: number): void {
    const command = matches[index];
    if (!command) return;
    textarea.value = `${command.name} `;
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    close();
    textarea.focus();
  }

  function close(): void {
    matches = [];
    active = 0;
    render();
  }

  textarea.addEventListener('input', update);
  textarea.addEventListener('blur', close);

  return {
    handleKey(event) {
      if (matches.length === 0) return false;
      switch (event.key) {
        case 'ArrowDown':
          active = (active + 1) % matches.length;
          render();
          return true;
        case 'ArrowUp':
          active = (active - 1 + matches.length) % matches.length;
          render();
          return true;
        case 'Enter':
        case 'Tab':
          if (event.shiftKey) return false;
          pick(active);
          return true;
        case 'Escape':
          close();
          return true;
        default:
          return false;
      }
    },
    close,
  };
}
