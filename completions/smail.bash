# bash completion for smail-admin, smail-register and smail-reset.
#
# The same file is installed under each command's name; whichever name
# loads it, it registers completion for all three.

# _smail_takes_arg CMD OPT: does option OPT of CMD take an argument?
_smail_takes_arg()
{
	case $2 in
	-d|--dir|--user|--password-file|--password-fd)
		return 0 ;;
	esac
	case $1:$2 in
	smail-admin:-n|smail-admin:--name|smail-admin:--recovery-key-file|\
	smail-admin:--pwhash)
		return 0 ;;
	smail-register:-u|smail-register:-n|smail-register:--name|\
	smail-register:-t|smail-register:--token|\
	smail-register:--new-password-file|smail-register:--new-password-fd)
		return 0 ;;
	smail-reset:-t|smail-reset:--token)
		return 0 ;;
	esac
	return 1
}

# _smail_short_args CMD: the short options of CMD that take an argument.
_smail_short_args()
{
	case $1 in
	smail-admin) echo dn ;;
	smail-register) echo dunt ;;
	*) echo dt ;;
	esac
}

# _smail_dequote WORD: sets _smail_dq to WORD with the simplest shell
# quoting undone ('...', "...", backslashes; an unclosed opening quote
# too) and a leading ~/ expanded.  Never evaluates WORD.
_smail_dequote()
{
	local w=$1
	case $w in
	\'*\'|\"*\") w=${w:1:${#w}-2} ;;
	\'*|\"*) w=${w:1} ;;
	*) w=${w//\\/} ;;
	esac
	case $w in
	'~') w=$HOME ;;
	'~/'*) w=$HOME/${w#'~/'} ;;
	esac
	_smail_dq=$w
}

# _smail_addrs CUR STATE...: adds to COMPREPLY, quoted for the shell, the
# addresses starting with CUR of the portal's accounts in one of the
# STATEs ("any" for all), from "smail-admin list".  The portal is the
# one the command line names with -d or --dir, if any.  Addresses are
# data: they never pass through compgen -W, which would expand them.
_smail_addrs()
{
	local cur=$1 states=" ${*:2} " dir="" w i j c n=${#_smail_words[@]}
	local short _smail_dq
	short=$(_smail_short_args "${_smail_words[0]##*/}")
	for ((i = 1; i < n - 1; i++)); do
		w=${_smail_words[i]}
		case $w in
		--) break ;;
		--dir) dir=${_smail_words[i+1]}; ((i++)) ;;
		--dir=*) dir=${w#--dir=} ;;
		--*=*) ;;
		--*) _smail_takes_arg "${_smail_words[0]##*/}" "$w" && ((i++)) ;;
		-?*)
			for ((j = 1; j < ${#w}; j++)); do
				c=${w:j:1}
				[[ $short == *"$c"* ]] || continue
				if ((j + 1 == ${#w})); then
					[[ $c == d ]] && dir=${_smail_words[i+1]}
					((i++))
				else
					[[ $c == d ]] && dir=${w:j+1}
				fi
				break
			done ;;
		esac
	done
	_smail_dequote "$dir"
	dir=$_smail_dq
	local cmd=smail-admin
	# Prefer the smail-admin that sits beside the command being completed.
	case ${_smail_words[0]} in
	*/*) [[ -x ${_smail_words[0]%/*}/smail-admin ]] &&
		cmd=${_smail_words[0]%/*}/smail-admin ;;
	esac
	local addr state rest q
	while IFS=$'\t' read -r addr state rest; do
		[[ -n $addr && $addr == "$cur"* ]] || continue
		[[ $states == *" any "* || $states == *" $state "* ]] || continue
		printf -v q '%q' "$addr"
		COMPREPLY+=("$q")
	done < <(if [[ -n $dir ]]; then
			"$cmd" -d "$dir" list 2>/dev/null </dev/null
		else
			"$cmd" list 2>/dev/null </dev/null
		fi)
}

# _smail_values CMD OPT CUR: candidates for the argument of OPT.
_smail_values()
{
	local cur=$3 _smail_dq
	case $2 in
	-d|--dir)
		_smail_dequote "$cur"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$_smail_dq") ;;
	--password-file|--new-password-file|--recovery-key-file)
		_smail_dequote "$cur"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$_smail_dq") ;;
	--pwhash)
		COMPREPLY=($(compgen -W 'interactive moderate sensitive' -- "$cur")) ;;
	-u|--user)
		COMPREPLY=()
		_smail_addrs "$cur" any ;;
	-t|--token)
		COMPREPLY=($(compgen -W '-' -- "$cur")) ;;
	*)
		COMPREPLY=() ;;
	esac
}

_smail()
{
	local IFS=$' \t\n'
	local cmd=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]}
	local -a _smail_words=()
	local i w opt="" ended=0

	# Undo bash's split of "--opt=value" into "--opt", "=", "value".
	for ((i = 0; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == = && ${#_smail_words[@]} -gt 0 &&
		    ${_smail_words[-1]} == --* && ${_smail_words[-1]} != *=* ]]; then
			_smail_words[-1]+==
			if ((i + 1 == COMP_CWORD)); then
				opt=${_smail_words[-1]%=}
				break
			fi
			_smail_words[-1]+=${COMP_WORDS[i+1]}
			((i++))
			continue
		fi
		_smail_words+=("$w")
	done
	if [[ -n $opt ]]; then
		# The word being completed is the value after "--opt=".
		[[ $cur == = ]] && cur=""
		_smail_values "$cmd" "$opt" "$cur"
		return 0
	fi
	if [[ $cur == = && $COMP_CWORD -gt 0 &&
	    ${COMP_WORDS[COMP_CWORD-1]} == --* ]]; then
		_smail_values "$cmd" "${COMP_WORDS[COMP_CWORD-1]}" ""
		return 0
	fi
	_smail_words+=("$cur")

	# "--opt=value" in one word (when "=" does not break words).
	if [[ $cur == --*=* ]]; then
		local o=${cur%%=*}
		_smail_values "$cmd" "$o" "${cur#*=}"
		COMPREPLY=("${COMPREPLY[@]/#/$o=}")
		return 0
	fi

	# Walk the words before the cursor: the option whose argument is
	# being typed, the subcommand, the operands, the mode.
	local n=${#_smail_words[@]} want="" sub="" mode="" c short
	local -a operands=()
	COMPREPLY=()
	short=$(_smail_short_args "$cmd")
	for ((i = 1; i < n - 1; i++)); do
		w=${_smail_words[i]}
		if ((ended)); then
			operands+=("$w")
			continue
		fi
		case $w in
		--)
			ended=1 ;;
		--*=*)
			;;
		--change-password|--login|--logout|--status)
			mode=$w ;;
		--*)
			if _smail_takes_arg "$cmd" "$w"; then
				if ((i + 1 == n - 1)); then
					want=$w
				fi
				((i++))
			fi ;;
		-?*)
			# A cluster of short options: the first one that takes
			# an argument takes the rest of the word or the next word.
			local j
			for ((j = 1; j < ${#w}; j++)); do
				c=${w:j:1}
				if [[ $short == *"$c"* ]]; then
					if ((j + 1 == ${#w})); then
						((i + 1 == n - 1)) && want=-$c
						((i++))
					fi
					break
				fi
			done ;;
		*)
			if [[ $cmd == smail-admin && -z $sub ]]; then
				sub=$w
			else
				operands+=("$w")
			fi ;;
		esac
	done

	if [[ -n $want ]]; then
		_smail_values "$cmd" "$want" "$cur"
		return 0
	fi

	# "-dDIR" in one word.
	if ((!ended)) && [[ $cur == -d?* ]]; then
		local _smail_dq
		_smail_dequote "${cur#-d}"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$_smail_dq")
		COMPREPLY=("${COMPREPLY[@]/#/-d}")
		return 0
	fi

	local common='-d --dir --password-file --password-fd -q --quiet
		-h --help -V --version'
	if ((!ended)) && [[ $cur == -* ]]; then
		local opts
		case $cmd:$sub in
		smail-admin:init)
			opts="$common --pwhash" ;;
		smail-admin:add)
			opts="$common -n --name" ;;
		smail-admin:invite)
			opts="$common -n --name" ;;
		smail-admin:approve)
			opts="$common --recovery-key-file" ;;
		smail-admin:list|smail-admin:unlock|smail-admin:flush)
			opts=$common ;;
		smail-admin:*)
			opts="$common --user -n --name --recovery-key-file --pwhash" ;;
		smail-register:*)
			opts="$common -u --user -n --name -t --token
				--change-password --new-password-file
				--new-password-fd --login --logout --status" ;;
		*)
			opts="$common --user -t --token" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return 0
	fi

	case $cmd in
	smail-admin)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W 'init add invite list unlock
				approve flush' -- "$cur"))
		elif ((${#operands[@]} == 0)); then
			case $sub in
			invite)
				_smail_addrs "$cur" invited ;;
			unlock|approve)
				_smail_addrs "$cur" any ;;
			esac
		fi ;;
	smail-register)
		if ((${#operands[@]} == 0)); then
			case $mode in
			'')
				_smail_addrs "$cur" invited ;;
			--login)
				_smail_addrs "$cur" active locked ;;
			esac
		fi ;;
	smail-reset)
		if ((${#operands[@]} == 0)); then
			_smail_addrs "$cur" active locked
		fi ;;
	esac
	return 0
}

complete -F _smail smail-admin smail-register smail-reset
