# bash completion for smail-admin, smail-register, smail-reset,
# smail-send, smail-inbox, smail-fetch and smail-addr.
#
# The same file is installed under each command's name; whichever name
# loads it, it registers completion for all of them.

# _smail_takes_arg CMD OPT: does option OPT of CMD take an argument?
_smail_takes_arg()
{
	case $1:$2 in
	smail-inbox:-d|smail-inbox:-u)
		# smail-inbox: -d deletes, -u lists unread messages.
		return 1 ;;
	esac
	case $2 in
	-d|--dir|--user|--password-file|--password-fd)
		return 0 ;;
	esac
	case $1:$2 in
	smail-admin:-n|smail-admin:--name|smail-admin:--recovery-key-file|\
	smail-admin:--pwhash|smail-admin:--anchors)
		return 0 ;;
	smail-register:-u|smail-register:-n|smail-register:--name|\
	smail-register:-t|smail-register:--token|\
	smail-register:--new-password-file|smail-register:--new-password-fd|\
	smail-register:--access-code-file)
		return 0 ;;
	smail-reset:-t|smail-reset:--token|smail-reset:--access-code-file)
		return 0 ;;
	smail-send:-u|smail-send:-s|smail-send:--subject|smail-send:-c|\
	smail-send:--cc|smail-send:-a|smail-send:--attach|smail-send:-H|\
	smail-send:--html|smail-send:-m|smail-send:--message|smail-send:-r|\
	smail-send:--reply|smail-send:-R|smail-send:--reply-all|\
	smail-send:-f|smail-send:--forward|smail-send:-x|smail-send:--exclude|\
	smail-send:-D|smail-send:--resume|smail-send:-b|smail-send:--batch|\
	smail-send:-E|smail-send:--expires|smail-send:--recall|\
	smail-send:--access-code-file)
		return 0 ;;
	smail-inbox:-n)
		return 0 ;;
	smail-fetch:-u|smail-fetch:-o|smail-fetch:--output|smail-fetch:-a|\
	smail-fetch:--attachment|smail-fetch:--portal-key)
		return 0 ;;
	smail-addr:-u|smail-addr:-n|smail-addr:--name|smail-addr:-g|\
	smail-addr:--group|smail-addr:--import)
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
	smail-send) echo duscaHmrRfxDbE ;;
	smail-inbox) echo n ;;
	smail-fetch) echo duoa ;;
	smail-addr) echo dung ;;
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

# _smail_live: sets the caller's array "o" to the options that name the
# portal and the account of the command line (-d/--dir and -u/--user, or
# only --dir and --user for smail-inbox), as --dir and --user, and fails
# unless that account has a live session.  Completions use only a live
# session: they never sign in or ask for a password.
_smail_live()
{
	local dir="" user="" w i j c n=${#_smail_words[@]}
	local cmd=${_smail_words[0]##*/} short _smail_dq
	short=$(_smail_short_args "$cmd")
	for ((i = 1; i < n - 1; i++)); do
		w=${_smail_words[i]}
		case $w in
		--) break ;;
		--dir) dir=${_smail_words[i+1]}; ((i++)) ;;
		--dir=*) dir=${w#--dir=} ;;
		--user) user=${_smail_words[i+1]}; ((i++)) ;;
		--user=*) user=${w#--user=} ;;
		--*=*) ;;
		--*) _smail_takes_arg "$cmd" "$w" && ((i++)) ;;
		-?*)
			for ((j = 1; j < ${#w}; j++)); do
				c=${w:j:1}
				[[ $short == *"$c"* ]] || continue
				if ((j + 1 == ${#w})); then
					[[ $c == d ]] && dir=${_smail_words[i+1]}
					[[ $c == u ]] && user=${_smail_words[i+1]}
					((i++))
				else
					[[ $c == d ]] && dir=${w:j+1}
					[[ $c == u ]] && user=${w:j+1}
				fi
				break
			done ;;
		esac
	done
	o=()
	if [[ -n $dir ]]; then
		_smail_dequote "$dir"
		o+=(--dir "$_smail_dq")
	fi
	if [[ -n $user ]]; then
		_smail_dequote "$user"
		o+=(--user "$_smail_dq")
	fi
	SMAIL_PASSWORD_FILE= "$(_smail_tool smail-register)" "${o[@]}" --status \
		>/dev/null 2>&1 </dev/null
}

# _smail_tool NAME: the smail command NAME, preferably the one beside the
# command being completed.
_smail_tool()
{
	case ${_smail_words[0]} in
	*/*)
		if [[ -x ${_smail_words[0]%/*}/$1 ]]; then
			echo "${_smail_words[0]%/*}/$1"
			return
		fi ;;
	esac
	echo "$1"
}

# _smail_ids CUR WHICH: adds to COMPREPLY the ids starting with CUR of
# the acting account's messages (WHICH "messages"), drafts ("drafts") or
# both ("both"), the first field of what "smail-inbox" and "smail-inbox
# --drafts" print.  Never a message is fetched: that would mark it read.
_smail_ids()
{
	local cur=$1 which=$2 inbox
	local -a o
	_smail_live || return 0
	inbox=$(_smail_tool smail-inbox)
	local id rest q
	while IFS=$'\t' read -r id rest; do
		[[ -n $id && $id == "$cur"* ]] || continue
		printf -v q '%q' "$id"
		COMPREPLY+=("$q")
	done < <(
		if [[ $which != drafts ]]; then
			SMAIL_PASSWORD_FILE= "$inbox" "${o[@]}" 2>/dev/null </dev/null
		fi
		if [[ $which != messages ]]; then
			SMAIL_PASSWORD_FILE= "$inbox" "${o[@]}" --drafts 2>/dev/null </dev/null
		fi)
}

# _smail_sent_ids CUR: adds to COMPREPLY the ids starting with CUR of the
# messages the acting account sent, the first field of what
# "smail-inbox --sent" prints (one line per recipient), each once.
_smail_sent_ids()
{
	local cur=$1 id rest q
	local -A had=()
	local -a o
	_smail_live || return 0
	while IFS=$'\t' read -r id rest; do
		[[ -n $id && $id == "$cur"* && -z ${had[$id]} ]] || continue
		had[$id]=1
		printf -v q '%q' "$id"
		COMPREPLY+=("$q")
	done < <(SMAIL_PASSWORD_FILE= "$(_smail_tool smail-inbox)" "${o[@]}" --sent \
		2>/dev/null </dev/null)
}

# _smail_zips CUR: zip files (and directories, to go down into) whose
# names start with CUR, for smail-fetch --verify.
_smail_zips()
{
	local _smail_dq
	_smail_dequote "$1"
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -X '!*.[zZ][iI][pP]' -- "$_smail_dq"
		compgen -d -- "$_smail_dq")
}

# _smail_groups CUR: adds to COMPREPLY "@GROUP" for each group of the
# acting account's address book ("smail-addr -G") that starts with CUR.
_smail_groups()
{
	local cur=$1 g rest q
	local -a o
	_smail_live || return 0
	while IFS=$'\t' read -r g rest; do
		[[ -n $g && @$g == "$cur"* ]] || continue
		printf -v q '%q' "@$g"
		COMPREPLY+=("$q")
	done < <(SMAIL_PASSWORD_FILE= "$(_smail_tool smail-addr)" "${o[@]}" -G \
		2>/dev/null </dev/null)
}

# _smail_group_names CUR: adds to COMPREPLY the names (without "@") of
# the groups of the acting account's address book that start with CUR,
# for smail-addr -g.
_smail_group_names()
{
	local cur=$1 g rest q
	local -a o
	_smail_live || return 0
	while IFS=$'\t' read -r g rest; do
		[[ -n $g && $g == "$cur"* ]] || continue
		printf -v q '%q' "$g"
		COMPREPLY+=("$q")
	done < <(SMAIL_PASSWORD_FILE= "$(_smail_tool smail-addr)" "${o[@]}" -G \
		2>/dev/null </dev/null)
}

# _smail_contacts CUR [GROUP]: adds to COMPREPLY the addresses starting
# with CUR of the acting account's contacts (the second field of what
# "smail-addr" prints), or of the members of GROUP ("smail-addr -g
# GROUP"), leaving out those COMPREPLY holds already.
_smail_contacts()
{
	local cur=$1 group=$2 name addr q r dup
	local -a o
	_smail_live || return 0
	while IFS= read -r name; do
		if [[ -n $group ]]; then
			addr=$name
		else
			[[ $name == *$'\t'* ]] || continue
			addr=${name#*$'\t'}
		fi
		[[ -n $addr && $addr == "$cur"* ]] || continue
		printf -v q '%q' "$addr"
		dup=0
		for r in "${COMPREPLY[@]}"; do
			[[ $r == "$q" ]] && dup=1 && break
		done
		((dup)) || COMPREPLY+=("$q")
	done < <(if [[ -n $group ]]; then
			SMAIL_PASSWORD_FILE= "$(_smail_tool smail-addr)" "${o[@]}" \
				-g "$group" 2>/dev/null </dev/null
		else
			SMAIL_PASSWORD_FILE= "$(_smail_tool smail-addr)" "${o[@]}" \
				2>/dev/null </dev/null
		fi)
}

# _smail_optval SHORT LONG: sets _smail_ov to the value of the last -SHORT
# or --LONG option among the words before the cursor (-gX, -g X, --group
# X, --group=X, or the last option of a cluster such as -ag X), quoting
# undone; empty when there is none.
_smail_optval()
{
	local want=$1 long=$2 w i j c n=${#_smail_words[@]} v=""
	local cmd=${_smail_words[0]##*/} short _smail_dq
	short=$(_smail_short_args "$cmd")
	for ((i = 1; i < n - 1; i++)); do
		w=${_smail_words[i]}
		case $w in
		--) break ;;
		"--$long") v=${_smail_words[i+1]}; ((i++)) ;;
		"--$long="*) v=${w#--"$long"=} ;;
		--*=*) ;;
		--*) _smail_takes_arg "$cmd" "$w" && ((i++)) ;;
		-?*)
			for ((j = 1; j < ${#w}; j++)); do
				c=${w:j:1}
				[[ $short == *"$c"* ]] || continue
				if ((j + 1 == ${#w})); then
					[[ $c == "$want" ]] && v=${_smail_words[i+1]}
					((i++))
				else
					[[ $c == "$want" ]] && v=${w:j+1}
				fi
				break
			done ;;
		esac
	done
	_smail_dq=
	[[ -n $v ]] && _smail_dequote "$v"
	_smail_ov=$_smail_dq
}

# _smail_rcpts CUR: recipients: "@GROUP" when CUR starts with "@", else
# the portal's accounts and the acting account's contacts.
_smail_rcpts()
{
	if [[ $1 == @* ]]; then
		_smail_groups "$1"
	else
		_smail_addrs "$1" any
		_smail_contacts "$1"
	fi
}

# _smail_fetch_binary: does the smail-fetch command line (every word but
# the one being completed) ask for -z, -e or -a, whose -o may name a file?
_smail_fetch_binary()
{
	local i j w c n=${#COMP_WORDS[@]}
	for ((i = 1; i < n; i++)); do
		((i == COMP_CWORD)) && continue
		w=${COMP_WORDS[i]}
		case $w in
		--) return 1 ;;
		--zip|--eml|--attachment|--attachment=*) return 0 ;;
		--dir|--user|--password-file|--password-fd|--output) ((i++)) ;;
		--*) ;;
		-?*)
			for ((j = 1; j < ${#w}; j++)); do
				c=${w:j:1}
				case $c in
				z|e|a) return 0 ;;
				d|u|o) ((j + 1 == ${#w})) && ((i++)); break ;;
				esac
			done ;;
		esac
	done
	return 1
}

# _smail_values CMD OPT CUR: candidates for the argument of OPT.
_smail_values()
{
	local cur=$3 _smail_dq
	case $1:$2 in
	smail-send:-a|smail-send:--attach|smail-send:-H|smail-send:--html)
		_smail_dequote "$cur"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$_smail_dq")
		return ;;
	smail-send:-m|smail-send:--message|smail-send:-b|smail-send:--batch)
		# A file, or - for standard input.
		_smail_dequote "$cur"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$_smail_dq")
		[[ $cur == - ]] && COMPREPLY+=(-)
		return ;;
	smail-send:-c|smail-send:--cc)
		COMPREPLY=()
		_smail_rcpts "$cur"
		return ;;
	smail-send:-r|smail-send:--reply|smail-send:-R|smail-send:--reply-all|\
	smail-send:-f|smail-send:--forward)
		COMPREPLY=()
		_smail_ids "$cur" messages
		return ;;
	smail-send:-D|smail-send:--resume)
		COMPREPLY=()
		_smail_ids "$cur" drafts
		return ;;
	smail-send:--recall)
		COMPREPLY=()
		_smail_sent_ids "$cur"
		return ;;
	smail-send:-u|smail-send:--user|smail-inbox:--user|smail-fetch:-u|\
	smail-fetch:--user)
		COMPREPLY=()
		_smail_addrs "$cur" active locked
		return ;;
	smail-fetch:-o|smail-fetch:--output)
		# A directory, or with -z, -e or -a a file too.
		_smail_dequote "$cur"
		compopt -o filenames 2>/dev/null
		if _smail_fetch_binary; then
			mapfile -t COMPREPLY < <(compgen -f -- "$_smail_dq")
		else
			mapfile -t COMPREPLY < <(compgen -d -- "$_smail_dq")
		fi
		return ;;
	smail-addr:--import)
		# A vCard or CSV file, or - for standard input.
		_smail_dequote "$cur"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$_smail_dq")
		[[ $cur == - ]] && COMPREPLY+=(-)
		return ;;
	smail-addr:-g|smail-addr:--group)
		COMPREPLY=()
		_smail_group_names "$cur"
		return ;;
	smail-addr:-u|smail-addr:--user)
		COMPREPLY=()
		_smail_addrs "$cur" active locked
		return ;;
	smail-send:-s|smail-send:--subject|smail-send:-x|smail-send:--exclude|\
	smail-send:-E|smail-send:--expires|\
	smail-inbox:-n|smail-fetch:-a|smail-fetch:--attachment|\
	smail-fetch:--portal-key|smail-addr:-n|smail-addr:--name)
		# Free text, a duration, a count, an attachment name, which
		# only fetching the message would tell, or a key's fingerprint,
		# which must come from somewhere trusted.
		COMPREPLY=()
		return ;;
	esac
	case $2 in
	-d|--dir)
		_smail_dequote "$cur"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$_smail_dq") ;;
	--password-file|--new-password-file|--recovery-key-file|\
	--access-code-file)
		_smail_dequote "$cur"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$_smail_dq") ;;
	--anchors)
		# An anchor file, or - for standard input.
		_smail_dequote "$cur"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$_smail_dq")
		[[ -z $cur || $cur == - ]] && COMPREPLY+=(-) ;;
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

_smail_main()
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
	# being typed, the subcommand, the operands, the mode, and every
	# option seen ($seen, such as " -r --draft").
	local n=${#_smail_words[@]} want="" sub="" mode="" c short seen=""
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
			seen+=" ${w%%=*}" ;;
		--change-password|--login|--logout|--status)
			mode=$w ;;
		--*)
			seen+=" $w"
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
				seen+=" -$c"
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

	# "-dDIR" in one word (in smail-inbox, -d is not --dir).
	if ((!ended)) && [[ $cmd != smail-inbox && $cur == -d?* ]]; then
		local _smail_dq
		_smail_dequote "${cur#-d}"
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$_smail_dq")
		COMPREPLY=("${COMPREPLY[@]/#/-d}")
		return 0
	fi

	# "-gGROUP" in one word, for smail-addr.
	if ((!ended)) && [[ $cmd == smail-addr && $cur == -g?* ]]; then
		_smail_group_names "${cur#-g}"
		COMPREPLY=("${COMPREPLY[@]/#/-g}")
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
		smail-admin:backup)
			opts="$common --with-recovery-key --recovery-key-file" ;;
		smail-admin:restore)
			opts="$common --without-recovery-key" ;;
		smail-admin:list|smail-admin:audit)
			opts="$common --json" ;;
		smail-admin:check)
			opts="$common --anchors" ;;
		smail-admin:unlock|smail-admin:cancel-reset|smail-admin:flush|\
		smail-admin:purge|smail-admin:keys)
			opts=$common ;;
		smail-admin:*)
			opts="$common --user -n --name --recovery-key-file --pwhash
				--with-recovery-key --without-recovery-key --json
				--anchors" ;;
		smail-register:*)
			opts="$common -u --user -n --name -t --token
				--access-code-file --change-password
				--new-password-file --new-password-fd --login
				--logout --status" ;;
		smail-send:*)
			opts="$common -u --user -s --subject -c --cc -a --attach
				-H --html -m --message -r --reply -R --reply-all
				-f --forward -x --exclude --draft -D --resume
				-b --batch -E --expires --access-code-file
				--recall -t --read-recipients" ;;
		smail-inbox:*)
			opts="--dir --user --password-file --password-fd -q
				--quiet -h --help -V --version -u --unread -n
				--drafts --sent --json -d --delete" ;;
		smail-fetch:*)
			opts="$common -u --user -o --output -z --zip -e --eml
				-a --attachment --verify --portal-key" ;;
		smail-addr:*)
			opts="$common -u --user -a --add -r --remove -n --name
				-G --groups -g --group --delete --import --export
				--json" ;;
		*)
			opts="$common --user -t --token --access-code-file" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return 0
	fi

	case $cmd in
	smail-admin)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W 'init add invite list unlock
				cancel-reset approve flush check backup restore purge audit
				keys' -- "$cur"))
		else
			local _smail_dq
			case $sub:${#operands[@]} in
			invite:0)
				_smail_addrs "$cur" invited ;;
			unlock:0|cancel-reset:0|approve:0|audit:0)
				_smail_addrs "$cur" any ;;
			backup:0|restore:0)
				# The backup file.
				_smail_dequote "$cur"
				compopt -o filenames 2>/dev/null
				mapfile -t COMPREPLY < <(compgen -f -- "$_smail_dq") ;;
			restore:1)
				# The new portal's directory.
				_smail_dequote "$cur"
				compopt -o filenames 2>/dev/null
				mapfile -t COMPREPLY < <(compgen -d -- "$_smail_dq") ;;
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
	smail-send)
		# Recipients, except for replies, batches, recalls and whole
		# messages on standard input, which take none.
		case "$seen " in
		*" -r "*|*" --reply "*|*" -R "*|*" --reply-all "*|*" -b "*|\
		*" --batch "*|*" --recall "*|*" -t "*|*" --read-recipients "*) ;;
		*) _smail_rcpts "$cur" ;;
		esac ;;
	smail-inbox)
		case "$seen " in
		*" -d "*|*" --delete "*) _smail_ids "$cur" both ;;
		esac ;;
	smail-fetch)
		# Zips to verify, or the ids of messages to fetch.
		case "$seen " in
		*" --verify "*) _smail_zips "$cur" ;;
		*) _smail_ids "$cur" messages ;;
		esac ;;
	smail-addr)
		# Operands are addresses, for -a and -r only: with -g, the
		# group's contacts to add (any contact) or to take out (its
		# members); without it, one address: a contact to remove, or
		# a contact to add, such as one of the portal's accounts.
		local _smail_ov add=0 rm=0
		case "$seen " in
		*" -a "*|*" --add "*) add=1 ;;
		esac
		case "$seen " in
		*" -r "*|*" --remove "*) rm=1 ;;
		esac
		((add + rm == 1)) || return 0
		_smail_optval g group
		if [[ -n $_smail_ov ]]; then
			if ((add)); then
				_smail_contacts "$cur"
			else
				_smail_contacts "$cur" "$_smail_ov"
			fi
		elif ((${#operands[@]} == 0)); then
			if ((add)); then
				_smail_addrs "$cur" any
				_smail_contacts "$cur"
			else
				_smail_contacts "$cur"
			fi
		fi ;;
	esac
	return 0
}

# Bash breaks words at the characters of COMP_WORDBREAKS, "@" and ":"
# among them, so "bob@partner.example" arrives as "bob", "@" and
# "partner.example".  _smail joins the pieces again where "@" or ":"
# breaks a word that COMP_LINE writes without blanks, completes whole
# words, and hands readline back only the part it replaces: from the
# last "@" of the word on (readline keeps "@" in the text it completes),
# or after its last ":".
_smail()
{
	local -a _smail_w=()
	local i w rest lead off=0 cw=0 prefix="" ok=1
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		rest=${COMP_LINE:off}
		lead=${rest%%[![:space:]]*}
		off=$((off + ${#lead}))
		[[ ${COMP_LINE:off:${#w}} == "$w" ]] || ok=0
		if ((ok && i > 0 && ${#lead} == 0)) &&
		    [[ $w == [@:]* || ${_smail_w[-1]} == *[@:] ]]; then
			_smail_w[-1]+=$w
		else
			_smail_w+=("$w")
		fi
		off=$((off + ${#w}))
		if ((i == COMP_CWORD)); then
			cw=$((${#_smail_w[@]} - 1))
			w=${_smail_w[-1]}
			case $w in
			*[@:]*)
				prefix=${w%[@:]*}
				[[ ${w:${#prefix}:1} == : ]] && prefix+=: ;;
			esac
		fi
	done
	if ((!ok)); then
		_smail_main "$@"
		return
	fi
	local -a COMP_WORDS=("${_smail_w[@]}")
	local COMP_CWORD=$cw
	_smail_main "$@"
	if [[ -n $prefix ]]; then
		local -a r=()
		for w in "${COMPREPLY[@]}"; do
			[[ $w == "$prefix"* ]] && r+=("${w#"$prefix"}")
		done
		COMPREPLY=("${r[@]}")
	fi
	return 0
}

complete -F _smail smail-admin smail-register smail-reset smail-send \
	smail-inbox smail-fetch smail-addr
