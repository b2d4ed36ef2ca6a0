import type { CommandContext } from "./command";
import { CliError } from "./cli-error";

/** Everything on stdin (a piped password or key), without the trailing newline. */
export async function readStdin(stdin: CommandContext["stdin"]): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

/**
 * Asks for a line on the terminal. With `hidden` the typed characters are not echoed (raw
 * mode): for passwords. Ctrl-C aborts.
 */
export function promptLine(ctx: CommandContext, question: string, hidden: boolean): Promise<string> {
  const stdin = ctx.stdin as NodeJS.ReadStream;
  ctx.stderr(question);
  return new Promise((resolve, reject) => {
    let answer = "";
    const raw = hidden && typeof stdin.setRawMode === "function";
    if (raw) stdin.setRawMode(true);
    stdin.setEncoding("utf8");
    stdin.resume();
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      ctx.stderr("\n");
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (data: string) => {
      for (const char of data) {
        if (char === "\u0003") return finish(new CliError("ERROR_CANCELED", "login canceled"));
        if (char === "\r" || char === "\n" || char === "\u0004") return finish();
        if (char === "\u007f" || char === "\b") answer = answer.slice(0, -1);
        else answer += char;
      }
    };
    stdin.on("data", onData);
  });
}
