# bash completion for broadcastd(8)

_broadcastd() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  local actions="--check --check-config --status --cancel-campaign --cancel-job --pause --resume
    --resolve-sent --resolve-not-sent"

  case $prev in
    -c | --config)
      COMPREPLY=($(compgen -f -- "$cur"))
      return
      ;;
    --pause | --resume)
      # APP/TARGET: the apps of the config are not read here; offer the targets.
      local app=${cur%%/*}
      if [[ $cur == */* ]]; then
        COMPREPLY=($(compgen -W "$app/users $app/online_users $app/chatrooms" -- "$cur"))
      fi
      return
      ;;
    --cancel-campaign | --cancel-job | --resolve-sent | --resolve-not-sent | --broadcast-id | \
      --reason)
      return
      ;;
  esac

  # The action already given decides which modifiers fit.
  local word action=""
  for word in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case $word in
      --check | --check-config | --status | --cancel-campaign | --cancel-job | --pause | \
        --resume | --resolve-sent | --resolve-not-sent)
        action=$word
        ;;
    esac
  done

  local words
  case $action in
    "") words="$actions --config --verbose --help --version" ;;
    --status) words="--json --config" ;;
    --pause) words="--reason --config" ;;
    --resolve-sent) words="--broadcast-id --config" ;;
    --check)
      if [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -f -X '!*.y?(a)ml' -- "$cur"))
        return
      fi
      words="--config"
      ;;
    *) words="--config" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o filenames -o bashdefault -F _broadcastd broadcastd
