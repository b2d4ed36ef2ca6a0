import { UsageError } from "../cli-error";
import { parseCommandArgs, type Command } from "../command";
import { resourceTypes } from "../resources";

const HELP = `Usage: cfctl completion bash|zsh|fish

Prints a shell completion script: commands, resource names (list, get, delete, stat), config
subcommands and context names, and the common options.

  bash:  source <(cfctl completion bash)          (or save it under /etc/bash_completion.d/)
  zsh:   source <(cfctl completion zsh)           (after compinit; or save it as _cfctl in $fpath)
  fish:  cfctl completion fish > ~/.config/fish/completions/cfctl.fish
`;

const RESOURCE_COMMANDS = ["list", "get", "delete", "stat"];
const CONFIG_SUBCOMMANDS = ["get-contexts", "current-context", "use-context", "set-context", "delete-context"];
const OUTPUTS = ["table", "wide", "json", "yaml", "name", "jsonpath="];
const OPTIONS = ["--help", "--output", "--filter", "--sort", "--limit", "--columns", "--watch", "--dry-run", "-f"];

export const completionCommand: Command = {
  name: "completion",
  help: HELP,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "completion", {});
    if (values.help) return ctx.stdout.write(HELP), 0;
    if (positionals.length !== 1) throw new UsageError("completion needs one shell: bash, zsh or fish", "completion");
    const words = {
      commands: ctx.commands ?? [],
      resources: resourceTypes().flatMap((r) => [r.name, r.kind, ...r.aliases]),
    };
    switch (positionals[0]) {
      case "bash":
        ctx.stdout.write(bashScript(words));
        return 0;
      case "zsh":
        // zsh runs bash completions through bashcompinit: one script to keep right.
        ctx.stdout.write(`#compdef cfctl\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(words)}`);
        return 0;
      case "fish":
        ctx.stdout.write(fishScript(words));
        return 0;
      default:
        throw new UsageError(`completion supports bash, zsh and fish, not "${positionals[0]}"`, "completion");
    }
  },
};

interface Words {
  commands: string[];
  resources: string[];
}

function bashScript({ commands, resources }: Words): string {
  return `# cfctl completion for bash (cfctl completion bash)
_cfctl() {
  local cur prev cmd
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  case "$prev" in
    -o|--output) COMPREPLY=( $(compgen -W "${OUTPUTS.join(" ")}" -- "$cur") ); return ;;
    -f|--filename|--api-key-file) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "${commands.join(" ")}" -- "$cur") ); return
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "${OPTIONS.join(" ")}" -- "$cur") ); return
  fi
  case "$cmd" in
    ${RESOURCE_COMMANDS.join("|")})
      [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=( $(compgen -W "${resources.join(" ")}" -- "$cur") ) ;;
    config)
      if [[ $COMP_CWORD -eq 2 ]]; then
        COMPREPLY=( $(compgen -W "${CONFIG_SUBCOMMANDS.join(" ")}" -- "$cur") )
      elif [[ $COMP_CWORD -eq 3 && "$prev" != set-context ]]; then
        COMPREPLY=( $(compgen -W "$(cfctl config get-contexts -o name 2>/dev/null)" -- "$cur") )
      fi ;;
    completion)
      [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=( $(compgen -W "bash zsh fish" -- "$cur") ) ;;
    apply|diff)
      COMPREPLY=( $(compgen -f -- "$cur") ) ;;
  esac
}
complete -F _cfctl cfctl
`;
}

function fishScript({ commands, resources }: Words): string {
  const lines = [
    "# cfctl completion for fish (cfctl completion fish)",
    "complete -c cfctl -f",
    `complete -c cfctl -n "__fish_use_subcommand" -a "${commands.join(" ")}"`,
    `complete -c cfctl -n "__fish_seen_subcommand_from ${RESOURCE_COMMANDS.join(" ")}" -a "${resources.join(" ")}"`,
    `complete -c cfctl -n "__fish_seen_subcommand_from config; and not __fish_seen_subcommand_from ${CONFIG_SUBCOMMANDS.join(" ")}" -a "${CONFIG_SUBCOMMANDS.join(" ")}"`,
    `complete -c cfctl -n "__fish_seen_subcommand_from use-context delete-context" -a "(cfctl config get-contexts -o name 2>/dev/null)"`,
    `complete -c cfctl -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"`,
    `complete -c cfctl -n "__fish_seen_subcommand_from apply diff" -s f -r -F`,
    `complete -c cfctl -s o -l output -x -a "${OUTPUTS.join(" ")}"`,
    "complete -c cfctl -s h -l help",
    "complete -c cfctl -l watch -d 'keep printing changes (list)'",
    "complete -c cfctl -l dry-run -d 'say what apply would change, change nothing'",
  ];
  return `${lines.join("\n")}\n`;
}
