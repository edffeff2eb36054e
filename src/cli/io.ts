/** Where a command writes, so tests and the CLI share one code path. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input (only called for `-f -`). */
  stdin: () => Uint8Array;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (colour, prompts). */
  isTTY: boolean;
  /** Asks a yes/no question on the terminal (only used when isTTY). */
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
