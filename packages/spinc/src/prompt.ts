/**
 * Line prompts for `start` on a terminal. End of input resolves to `null`
 * (callers abort: the original looped forever there), ctrl-c to `interrupt`.
 */
import { createInterface, type Interface } from 'node:readline';
import type { OutStream } from './context.js';

export type Answer = string | null | 'interrupt';
const INTERRUPT = Symbol('interrupt');

export class Prompter {
  private readonly rl: Interface;
  private readonly lines: (string | typeof INTERRUPT)[] = [];
  private waiter: ((line: string | null | typeof INTERRUPT) => void) | undefined;
  private ended = false;

  constructor(
    input: NodeJS.ReadableStream,
    private readonly output: OutStream,
    terminal: boolean,
  ) {
    this.rl = createInterface({ input, output: output as NodeJS.WritableStream, terminal });
    this.rl.on('line', (line) => this.push(line));
    this.rl.on('SIGINT', () => this.push(INTERRUPT));
    this.rl.on('close', () => {
      this.ended = true;
      this.push(null);
    });
  }

  private push(line: string | null | typeof INTERRUPT): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(line);
    } else if (line !== null) {
      this.lines.push(line);
    }
  }

  /** Show `prompt` and read one line: the line, null at end of input, 'interrupt' on ctrl-c. */
  async ask(prompt: string): Promise<Answer> {
    if (this.ended) {
      // readline refuses to prompt once closed; lines read before the close may still be queued.
      this.output.write(prompt);
    } else {
      this.rl.setPrompt(prompt);
      this.rl.prompt();
    }
    const queued = this.lines.shift();
    const line =
      queued !== undefined
        ? queued
        : this.ended
          ? null
          : await new Promise<string | null | typeof INTERRUPT>((r) => (this.waiter = r));
    return line === INTERRUPT ? 'interrupt' : line;
  }

  close(): void {
    this.rl.close();
  }
}
