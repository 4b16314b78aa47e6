// The line under the history that says who is typing in the open conversation.

export class TypingLine {
  constructor({ presence, conversationId }) {
    this.presence = presence;
    this.id = conversationId;
    this.line = document.getElementById("typing");
  }

  render(change) {
    if (!change.typing) return;
    const names = this.presence.typing(this.id);
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = "Several people are typing…";
    if (this.line.textContent !== text) this.line.textContent = text;
  }
}
