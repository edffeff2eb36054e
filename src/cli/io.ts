/** Where a command writes, so tests and the CLI share one code path. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input (only called for `-f -`). */
  stdin: () => Uint8Array;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal: colour, and lists cut to a screenful. */
  isTTY: boolean;
  /** Whether standard input is a terminal someone can answer a question at (Terraform decides by stdin too). */
  interactive?: boolean;
  /** Whether stderr is a terminal: progress is one line redrawn in place, and retries are said. */
  stderrTTY?: boolean;
  /** Asks a yes/no question on the terminal (only used when interactive); Ctrl-C or Ctrl-D answer no. */
  confirm?: (question: string) => Promise<boolean>;
}

export const ExitCode = {
  ok: 0,
  /** Invalid manifests, failed changes. */
  failure: 1,
  /** Bad flags or arguments. */
  usage: 2,
} as const;

/** An error the user caused and can fix; printed without a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
  ) {
    super(message);
  }
}

/** Colour only on a terminal, and never when NO_COLOR is set (no-color.org) or the terminal is dumb. */
export function useColor(io: Io, flag = true): boolean {
  return flag && io.isTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
}
