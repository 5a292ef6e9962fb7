# fish completion for smail-admin, smail-register, smail-reset,
# smail-send, smail-inbox, smail-fetch and smail-addr.
#
# fish loads a completion file by the name of the command being
# completed, so the same file may be installed under each command's
# name; whichever loads first registers completion for all seven, and
# the others return at once.  Sourcing it by hand works as well.
#
# Candidates come from the commands themselves: message, draft and sent
# ids from smail-inbox, contacts and groups from smail-addr, only while
# the account of the command line has a live session (smail-register
# --status); account addresses from smail-admin list.  A completion
# never signs in, asks for a password or fetches a message, which would
# mark it read.

if set -q __smail_completion_loaded
    return
end
set -g __smail_completion_loaded 1

# The name of the command being completed, without its directory.
function __smail_cmd
    set -l w (commandline -opc)
    string replace -r '.*/' '' -- $w[1]
end

# __smail_tool NAME: the smail command NAME, preferably the one in the
# directory of the command being completed (such as build/).
function __smail_tool -a name
    set -l w (commandline -opc)
    if string match -q -- '*/*' $w[1]
        set -l d (string replace -r '/[^/]*$' '' -- $w[1])
        set d (string replace -r '^~(?=/|$)' -- $HOME $d)
        if test -x "$d/$name"
            echo $d/$name
            return
        end
    end
    echo $name
end

# The options of each command, for argparse: which take a value.
function __smail_spec -a cmd
    set -l common q/quiet h/help V/version password-file= password-fd=
    switch $cmd
        case smail-admin
            printf '%s\n' $common d/dir= user= n/name= recovery-key-file= \
                pwhash= with-recovery-key without-recovery-key json anchors=
        case smail-register
            printf '%s\n' $common d/dir= u/user= n/name= t/token= \
                change-password new-password-file= new-password-fd= login \
                logout status access-code-file=
        case smail-reset
            printf '%s\n' $common d/dir= user= t/token= access-code-file=
        case smail-send
            printf '%s\n' $common d/dir= u/user= s/subject= c/cc=+ a/attach=+ \
                H/html= m/message= r/reply= R/reply-all= f/forward= \
                x/exclude=+ D/resume= b/batch= draft E/expires= recall= \
                access-code-file= t/read-recipients
        case smail-inbox
            # -d deletes and -u lists unread messages: --dir, --user.
            printf '%s\n' $common dir= user= u/unread d/delete n= drafts \
                sent json
        case smail-fetch
            printf '%s\n' $common d/dir= u/user= o/output= z/zip e/eml \
                a/attachment= verify portal-key=
        case smail-addr
            printf '%s\n' $common d/dir= u/user= a/add r/remove n/name= \
                G/groups g/group= delete import= export json
    end
end

# The words before the cursor, after the command, and a last word that
# stands for the one being typed, so that an option waiting for its
# value does not stop the parse.
function __smail_words
    set -l w (commandline -opc)
    set -e w[1]
    printf '%s\n' $w __smail_cursor__
end

# __smail_has NAME...: was any of these options given before the cursor?
# NAMEs are as argparse names them: reply_all for --reply-all.
function __smail_has
    set -l names $argv
    set -l words (__smail_words)
    argparse -i (__smail_spec (__smail_cmd)) -- $words 2>/dev/null
    or return 1
    for n in $names
        set -q _flag_$n
        and return 0
    end
    return 1
end

# __smail_value NAME: the value of the last option NAME before the cursor.
function __smail_value -a name
    set -l words (__smail_words)
    argparse -i (__smail_spec (__smail_cmd)) -- $words 2>/dev/null
    or return 1
    set -l var _flag_$name
    set -q $var
    or return 1
    set -l v $$var
    string replace -r '^~(?=/|$)' -- $HOME $v[-1]
end

# The operands before the cursor (the subcommand of smail-admin first).
function __smail_operands
    set -l words (__smail_words)
    argparse -i (__smail_spec (__smail_cmd)) -- $words 2>/dev/null
    or return 1
    if set -q argv[1]; and test "$argv[-1]" = __smail_cursor__
        set -e argv[-1]
    end
    for a in $argv
        echo $a
    end
end

# __smail_nops N: are there exactly N operands before the cursor?
function __smail_nops -a n
    test (count (__smail_operands)) -eq $n
end

# The portal and account of the command line, as --dir and --user.
function __smail_who
    set -l dir (__smail_value dir)
    set -l user (__smail_value user)
    test -n "$dir"
    and printf '%s\n' --dir $dir
    test -n "$user"
    and printf '%s\n' --user $user
end

# Does the account of the command line have a live session?  Nothing
# here ever asks for a password: without one, no candidates.
function __smail_live
    set -lx SMAIL_PASSWORD_FILE ''
    set -l reg (__smail_tool smail-register)
    $reg (__smail_who) --status >/dev/null 2>/dev/null </dev/null
end

# __smail_run TOOL ARG...: TOOL with the portal and account of the
# command line, no password, no input, no errors.
function __smail_run -a tool
    set -e argv[1]
    set -lx SMAIL_PASSWORD_FILE ''
    set -l t (__smail_tool $tool)
    $t (__smail_who) $argv 2>/dev/null </dev/null
end

# __smail_accounts STATE...: the portal's accounts in one of the STATEs
# ("any" for all), from "smail-admin list", described by their state.
function __smail_accounts
    set -l dir (__smail_value dir)
    set -l admin (__smail_tool smail-admin)
    set -l lines
    if test -n "$dir"
        set lines ($admin -d $dir list 2>/dev/null </dev/null)
    else
        set lines ($admin list 2>/dev/null </dev/null)
    end
    for l in $lines
        set -l f (string split \t -- $l)
        test -n "$f[1]"
        or continue
        if contains -- any $argv; or contains -- "$f[2]" $argv
            printf '%s\t%s account\n' $f[1] $f[2]
        end
    end
end

# __smail_ids messages|drafts|both: ids of the acting account's messages
# ("smail-inbox") and drafts ("smail-inbox --drafts").
function __smail_ids -a which
    __smail_live
    or return
    if test "$which" != drafts
        for l in (__smail_run smail-inbox)
            set -l f (string split \t -- $l)
            test -n "$f[1]"
            and printf '%s\t%s %s: %s\n' $f[1] $f[3] $f[4] $f[5]
        end
    end
    if test "$which" != messages
        for l in (__smail_run smail-inbox --drafts)
            set -l f (string split \t -- $l)
            set -q f[3]; and test -n "$f[3]"
            or set f[3] nobody
            test -n "$f[1]"
            and printf '%s\tdraft to %s: %s\n' $f[1] $f[3] $f[4]
        end
    end
end

# Ids of the messages the acting account sent ("smail-inbox --sent", a
# line per recipient), each once, described by date and recipients.
function __smail_sent_ids
    __smail_live
    or return
    set -l ids
    set -l descs
    for l in (__smail_run smail-inbox --sent)
        set -l f (string split \t -- $l)
        test -n "$f[1]"
        or continue
        set -l i (contains -i -- $f[1] $ids)
        if test -n "$i"
            set descs[$i] "$descs[$i], $f[3] $f[4]"
        else
            set -a ids $f[1]
            set -a descs "sent $f[2] to $f[3] $f[4]"
        end
    end
    for i in (seq (count $ids))
        printf '%s\t%s\n' $ids[$i] $descs[$i]
    end
end

# __smail_contacts [GROUP]: the acting account's contacts ("smail-addr",
# described by name), or the members of GROUP ("smail-addr -g GROUP").
function __smail_contacts -a group
    __smail_live
    or return
    if test -n "$group"
        for l in (__smail_run smail-addr -g $group)
            test -n "$l"
            and printf '%s\tmember of %s\n' $l $group
        end
    else
        for l in (__smail_run smail-addr)
            set -l f (string split \t -- $l)
            set -q f[2]; and test -n "$f[2]"
            or continue
            if test -n "$f[1]"
                printf '%s\t%s\n' $f[2] $f[1]
            else
                printf '%s\tcontact\n' $f[2]
            end
        end
    end
end

# __smail_groups [@]: the groups of the acting account's address book
# ("smail-addr -G"), with "@" before each name when asked.
function __smail_groups -a at
    __smail_live
    or return
    for l in (__smail_run smail-addr -G)
        set -l f (string split \t -- $l)
        test -n "$f[1]"
        or continue
        if test "$f[2]" = 1
            printf '%s%s\t1 member\n' "$at" $f[1]
        else
            printf '%s%s\t%s members\n' "$at" $f[1] $f[2]
        end
    end
end

# Recipients: the portal's accounts and the acting account's contacts,
# or @GROUP for its groups.
function __smail_rcpts
    set -l cur (commandline -ct)
    if string match -q -- '@*' $cur
        __smail_groups @
        return
    end
    set -l seen
    for c in (__smail_accounts any) (__smail_contacts)
        set -l a (string split -m1 \t -- $c)[1]
        contains -- $a $seen
        and continue
        set -a seen $a
        echo $c
    end
    test -z "$cur"
    and __smail_groups @
end

# Zips, and directories to look into, for smail-fetch --verify.
function __smail_zips
    set -l cur (commandline -ct)
    complete -C"__smail_no_such_command $cur" | string match -r -- '^[^\t]*(?:\.[zZ][iI][pP]|/)(?:\t.*)?$'
end

# Does the smail-fetch command line ask for -z, -e or -a, whose -o may
# name a file as well as a directory?
function __smail_fetch_binary
    __smail_has zip eml attachment
end

# Does smail-send take recipients here?  Not for replies, batches,
# recalls and whole messages on standard input.
function __smail_send_rcpts
    not __smail_has reply reply_all batch recall read_recipients
end

# smail-admin: is the subcommand one of ARGV, or not given yet?
function __smail_admin_sub
    set -l ops (__smail_operands)
    not set -q ops[1]
    or contains -- $ops[1] $argv
end

# smail-admin: is the subcommand ARGV[1], with ARGV[2] operands after it?
function __smail_admin_at -a sub n
    set -l ops (__smail_operands)
    test "$ops[1]" = "$sub"
    and test (count $ops) -eq (math $n + 1)
end

function __smail_stdin
    printf '%s\t%s\n' - 'standard input'
end

# ---- every command ----

for c in smail-admin smail-register smail-reset smail-send smail-inbox \
        smail-fetch smail-addr
    complete -c $c -f
    complete -c $c -l password-file -r -F -d 'read the password from the first line of a file'
    complete -c $c -l password-fd -x -d 'read the password from a file descriptor'
    complete -c $c -s q -l quiet -d 'print no progress notes'
    complete -c $c -s h -l help -d 'print a usage summary and exit'
    complete -c $c -s V -l version -d 'print the version and exit'
end
for c in smail-admin smail-register smail-reset smail-send smail-fetch smail-addr
    complete -c $c -s d -l dir -x -a '(__fish_complete_directories)' -d 'portal directory'
end

# ---- smail-admin ----

complete -c smail-admin -n '__smail_nops 0' -a init -d 'create the portal'
complete -c smail-admin -n '__smail_nops 0' -a add -d 'provision an active account'
complete -c smail-admin -n '__smail_nops 0' -a invite -d 'provision an invited account and mail its token'
complete -c smail-admin -n '__smail_nops 0' -a list -d 'list every account with its state and creation time'
complete -c smail-admin -n '__smail_nops 0' -a unlock -d 'end a lockout'
complete -c smail-admin -n '__smail_nops 0' -a cancel-reset -d 'end a pending, waiting or approved reset'
complete -c smail-admin -n '__smail_nops 0' -a approve -d 'complete a waiting reset or re-invitation'
complete -c smail-admin -n '__smail_nops 0' -a flush -d 'deliver queued notifications'
complete -c smail-admin -n '__smail_nops 0' -a check -d 'verify every record without secret keys'
complete -c smail-admin -n '__smail_nops 0' -a backup -d 'write a backup of the portal'
complete -c smail-admin -n '__smail_nops 0' -a restore -d 'build a new portal from a backup'
complete -c smail-admin -n '__smail_nops 0' -a purge -d 'remove expired and recalled messages, dead sessions and tokens'
complete -c smail-admin -n '__smail_nops 0' -a audit -d 'print the audit log, or the entries of one account'
complete -c smail-admin -n '__smail_nops 0' -a keys -d 'print the portal id and the fingerprints of its keys'

complete -c smail-admin -l user -x -a '(__smail_accounts any)' -d 'accepted and ignored'
complete -c smail-admin -n '__smail_admin_sub init' -l pwhash -x \
    -a 'interactive\t"2 passes, 64 MiB" moderate\t"3 passes, 256 MiB" sensitive\t"4 passes, 1 GiB"' \
    -d 'cost of the password hash'
complete -c smail-admin -n '__smail_admin_sub add invite' -s n -l name -x -d 'name of the person, "First Last"'
complete -c smail-admin -n '__smail_admin_sub approve backup' -l recovery-key-file -r -F -d 'recovery key file'
complete -c smail-admin -n '__smail_admin_sub backup' -l with-recovery-key -d 'put the recovery key in the backup, under a passphrase'
complete -c smail-admin -n '__smail_admin_sub restore' -l without-recovery-key -d 'leave the backup\'s recovery key out'
complete -c smail-admin -n '__smail_admin_sub list audit' -l json -d 'print JSON objects'
complete -c smail-admin -n '__smail_admin_sub check' -l anchors -r -F -a '-' -d 'check the audit log against anchor lines (- for standard input)'

complete -c smail-admin -n '__smail_admin_at invite 0' -a '(__smail_accounts invited)'
complete -c smail-admin -n '__smail_admin_at unlock 0' -a '(__smail_accounts any)'
complete -c smail-admin -n '__smail_admin_at cancel-reset 0' -a '(__smail_accounts any)'
complete -c smail-admin -n '__smail_admin_at approve 0' -a '(__smail_accounts any)'
complete -c smail-admin -n '__smail_admin_at audit 0' -a '(__smail_accounts any)'
complete -c smail-admin -n '__smail_admin_at backup 0' -F -d 'backup file (new)'
complete -c smail-admin -n '__smail_admin_at restore 0' -F -d 'backup file'
complete -c smail-admin -n '__smail_admin_at restore 1' -a '(__fish_complete_directories)' -d 'new portal directory'

# ---- smail-register ----

complete -c smail-register -s u -l user -x -a '(__smail_accounts any)' -d 'account to act as'
complete -c smail-register -s n -l name -x -d 'name of the person, when claiming'
complete -c smail-register -s t -l token -x -a '(printf "%s\t%s\n" - "read the token from standard input")' -d 'invitation token'
complete -c smail-register -l access-code-file -r -F -d 'read the access code from a file'
complete -c smail-register -l change-password -d 'change the password'
complete -c smail-register -l new-password-file -r -F -d 'read the new password from the first line of a file'
complete -c smail-register -l new-password-fd -x -d 'read the new password from a file descriptor'
complete -c smail-register -l login -d 'sign in'
complete -c smail-register -l logout -d 'sign out'
complete -c smail-register -l status -d 'print the signed-in address'
complete -c smail-register -n '__smail_nops 0; and not __smail_has login logout status change_password' -a '(__smail_accounts invited)'
complete -c smail-register -n '__smail_nops 0; and __smail_has login' -a '(__smail_accounts active locked)'

# ---- smail-reset ----

complete -c smail-reset -l user -x -a '(__smail_accounts any)' -d 'accepted and ignored'
complete -c smail-reset -s t -l token -x -a '(printf "%s\t%s\n" - "read the token from standard input")' -d 'reset token'
complete -c smail-reset -l access-code-file -r -F -d 'read the access code from a file'
complete -c smail-reset -n '__smail_nops 0' -a '(__smail_accounts active locked)'

# ---- smail-send ----

complete -c smail-send -s u -l user -x -a '(__smail_accounts active locked)' -d 'account to act as'
complete -c smail-send -s s -l subject -x -d 'subject'
complete -c smail-send -s c -l cc -x -a '(__smail_rcpts)' -d 'recipient for the Cc list'
complete -c smail-send -s a -l attach -r -F -d 'attach a file'
complete -c smail-send -s H -l html -r -F -d 'HTML version of the text'
complete -c smail-send -s m -l message -r -F -a '(__smail_stdin)' -d 'body from a file, or - for standard input'
complete -c smail-send -s r -l reply -x -a '(__smail_ids messages)' -d 'reply to the sender of a message'
complete -c smail-send -s R -l reply-all -x -a '(__smail_ids messages)' -d 'reply to the sender and the other recipients'
complete -c smail-send -s f -l forward -x -a '(__smail_ids messages)' -d 'forward a message'
complete -c smail-send -s x -l exclude -x -d 'leave out an attachment of the forward or draft'
complete -c smail-send -l draft -d 'save as a draft instead of sending'
complete -c smail-send -s D -l resume -x -a '(__smail_ids drafts)' -d 'resume a draft and send it'
complete -c smail-send -s b -l batch -r -F -a '(__smail_stdin)' -d 'send the messages a manifest lists'
complete -c smail-send -s E -l expires -x -d 'expire after this long: 7d, 12h, 30m'
complete -c smail-send -l access-code-file -r -F -d 'invited recipients must also give the code in this file'
complete -c smail-send -l recall -x -a '(__smail_sent_ids)' -d 'withdraw a message you sent'
complete -c smail-send -s t -l read-recipients -d 'send the RFC 5322 message on standard input to the recipients it names'
complete -c smail-send -n '__smail_send_rcpts' -a '(__smail_rcpts)'

# ---- smail-inbox ----

complete -c smail-inbox -l dir -x -a '(__fish_complete_directories)' -d 'portal directory'
complete -c smail-inbox -l user -x -a '(__smail_accounts active locked)' -d 'account to act as'
complete -c smail-inbox -s u -l unread -d 'list only new messages'
complete -c smail-inbox -s n -x -d 'list at most this many lines'
complete -c smail-inbox -l drafts -d 'list the drafts'
complete -c smail-inbox -l sent -d 'list what became of the messages you sent'
complete -c smail-inbox -l json -d 'print JSON objects'
complete -c smail-inbox -s d -l delete -d 'delete messages or drafts'
complete -c smail-inbox -n '__smail_has delete' -a '(__smail_ids both)'

# ---- smail-fetch ----

complete -c smail-fetch -s u -l user -x -a '(__smail_accounts active locked)' -d 'account to act as'
complete -c smail-fetch -s o -l output -n '__smail_fetch_binary' -r -F -d 'file, or directory for one file per message'
complete -c smail-fetch -s o -l output -n 'not __smail_fetch_binary' -x -a '(__fish_complete_directories)' -d 'directory for the text and the attachments'
complete -c smail-fetch -s z -l zip -d 'write a zip: message.txt, the attachments and the signed manifest'
complete -c smail-fetch -s e -l eml -d 'write an RFC 5322 message'
complete -c smail-fetch -s a -l attachment -x -d 'write one attachment'
complete -c smail-fetch -l verify -d 'check zips written by -z, offline or against the portal'
complete -c smail-fetch -l portal-key -x -d 'the portal key fingerprint to pin (smail-admin keys)'
complete -c smail-fetch -n '__smail_has verify' -a '(__smail_zips)'
complete -c smail-fetch -n 'not __smail_has verify' -a '(__smail_ids messages)'

# ---- smail-addr ----

complete -c smail-addr -s u -l user -x -a '(__smail_accounts active locked)' -d 'account to act as'
complete -c smail-addr -s a -l add -d 'add or update a contact; with -g, add contacts to the group'
complete -c smail-addr -s r -l remove -d 'remove a contact; with -g, take members out of the group'
complete -c smail-addr -s n -l name -x -d 'name of the contact, "First Last"'
complete -c smail-addr -s G -l groups -d 'list the groups'
complete -c smail-addr -s g -l group -x -a '(__smail_groups)' -d 'list, change or delete a group'
complete -c smail-addr -l delete -d 'delete the group given with -g'
complete -c smail-addr -l import -r -F -a '(__smail_stdin)' -d 'import a vCard or CSV file'
complete -c smail-addr -l export -d 'write the address book as vCard 4.0'
complete -c smail-addr -l json -d 'print JSON objects (contacts, groups)'

# Operands are addresses, for -a and -r only: with -g, contacts to add
# (any contact) or members to take out; without it, one address: a
# contact to remove, or one to add, such as one of the portal's accounts.
function __smail_addr_operands
    set -l add 0
    set -l rm 0
    __smail_has add
    and set add 1
    __smail_has remove
    and set rm 1
    test (math $add + $rm) -eq 1
    or return
    set -l group (__smail_value group)
    if test -n "$group"
        if test $add -eq 1
            __smail_contacts
        else
            __smail_contacts $group
        end
    else if __smail_nops 0
        if test $add -eq 1
            set -l seen
            for c in (__smail_accounts any) (__smail_contacts)
                set -l a (string split -m1 \t -- $c)[1]
                contains -- $a $seen
                and continue
                set -a seen $a
                echo $c
            end
        else
            __smail_contacts
        end
    end
end
complete -c smail-addr -a '(__smail_addr_operands)'
