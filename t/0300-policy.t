#!/bin/sh
# The password policy (SPEC §3) through the commands that set a
# password: smail-admin add, smail-register (claiming an invitation and
# --change-password).  A refused password exits 65, prints every broken
# rule on its own line, and changes nothing.
. "$(dirname "$0")/lib.sh"

new_portal

# refuse WORD PASSWORD DESC: smail-admin add refuses PASSWORD for
# quill@agency.gov with exactly one line, and that line holds WORD.
refuse() {
	pwfile try "$2"
	run 65 "$3: 65" smail-admin add --password-file try quill@agency.gov
	err_has "$3: the line says '$1'" "$1"
	err_lines "$3: exactly one line" 1
}

add_user keep@agency.gov 'Tulip&River77q'
run 0 "list, before" smail-admin list
cp out list.before

# --- each rule on its own ---
refuse 'shorter than 10' 'Kt#Zeb42x' "9 characters"
refuse digit 'Kite#Zebraxq' "no digit"
refuse uppercase 'kite#zebra42x' "no uppercase letter"
refuse lowercase 'KITE#ZEBRA42X' "no lowercase letter"
refuse special 'KiteZebra42x' "no special character"
refuse special 'Kite*Zebra42x' "'*' is not special"
refuse special 'Kite.Zebra42x' "'.' is not special"
refuse special 'Kite*.Zebra42x' "'*' and '.' together are not special"
refuse 'address' 'QUILL@agency.gov7' "the whole address"
refuse 'name in your e-mail address' 'Kite#Quill42x' "the local part"
refuse 'name in your e-mail address' 'Kite#qUiLl42x' "the local part, other case"
refuse 'dictionary' 'Elephant123!' "a dictionary word once digits and specials go"
refuse 'dictionary' 'Ele#phant99' "a dictionary word with specials inside"
refuse 'common' 'P@ssw0rd!123' "a leet entry of the common list"
refuse 'common' 'p@SSW0RD!123' "the common list, other case"

pwfile try 'Password123!'
run 65 "Password123! is refused" smail-admin add --password-file try quill@agency.gov
err_has "as a common password" 'common'
err_has "and as a dictionary word" 'dictionary'
err_lines "two rules, two lines" 2

# --- several rules at once: every broken rule on its own line ---
pwfile try 'zebraqx'
run 65 "a password breaking four rules" smail-admin add --password-file try quill@agency.gov
err_lines "prints four lines" 4
err_has "length" 'shorter than 10'
err_has "digit" 'digit'
err_has "uppercase" 'uppercase'
err_has "special" 'special'
check "each line names the command" test "$(grep -c '^smail-admin: ' err)" = 4

pwfile try 'ELEPHANT'
run 65 "an all-uppercase dictionary word" smail-admin add --password-file try quill@agency.gov
err_lines "prints five lines" 5
err_has "length" 'shorter than 10'
err_has "digit" 'digit'
err_has "special" 'special'
err_has "lowercase" 'lowercase'
err_has "dictionary" 'dictionary'

# --- nothing changed ---
run 0 "list, after the refusals" smail-admin list
check "is unchanged" cmp -s out list.before
run 67 "the account was not created: no login" \
	smail-register --login --password-file try quill@agency.gov

# --- names given with -n (3+ letters count, any case) ---
pwfile try 'Zebra#Hannah42'
run 65 "the first name given with -n" \
	smail-admin add -n "Hannah Quist" --password-file try hq@agency.gov
err_has "says it holds the name" 'your name'
err_lines "one line" 1
pwfile try 'Kite#qUIST42x'
run 65 "the last name, other case" \
	smail-admin add -n "Hannah Quist" --password-file try hq@agency.gov
err_has "says it holds the name" 'your name'
pwfile try 'Kite#Jane42Zebx'
run 65 "a part of a hyphenated first name" \
	smail-admin add -n "Mary-Jane Quist" --password-file try hq@agency.gov
err_has "says it holds the name" 'your name'
pwfile try 'Kite#Ann42Zebx'
run 65 "a 3-letter name part counts" \
	smail-admin add -n "Ann Quist" --password-file try hq@agency.gov
pwfile try 'Kite#Al42Zebx'
run 0 "a 2-letter name part does not" \
	smail-admin add -n "Al Quist" --password-file try hq@agency.gov
pwfile try 'Kite#Quist42x'
run 0 "without -n the name is not known" smail-admin add --password-file try hq2@agency.gov

# --- the boundary and a good password ---
pwfile try 'Kt#Zebr42x'
run 0 "exactly 10 characters is enough" smail-admin add --password-file try ten@agency.gov
pwfile try 'Kite#Zebra42x'
run 0 "Kite#Zebra42x is accepted" smail-admin add --password-file try quill@agency.gov
run 0 "and signs in" smail-register --login --password-file try quill@agency.gov

# --- smail-register checks the policy too ---
smail-admin invite -n "Hannah Quist" hq3@partner.example 2>/dev/null
cp "$(last_mail)" inv
pwfile try 'kite#zebra42x'
run 65 "register: no uppercase" smail-register --password-file try hq3@partner.example <inv
err_has "says uppercase" 'uppercase'
err_lines "one line" 1
pwfile try 'Zebra#hannah42'
run 65 "register: the name from the invitation counts" \
	smail-register --password-file try hq3@partner.example <inv
err_has "says name" 'your name'
pwfile try 'Zebra#Ortega42'
run 65 "register: the name given with -n counts" \
	smail-register -n "Rosa Ortega" --password-file try hq3@partner.example <inv
err_has "says name" 'your name'
same "the account is still invited" invited \
	"$(smail-admin list | awk '$1 == "hq3@partner.example" { print $2 }')"

# --- the history, through --change-password ---
p1='Kite#Zebra42x' p2='Tulip&River77q' p3='Maple@Stone31z' p4='Cedar!Brook55k'
p5='Fjord%Lynx48w'
pwfile p1 "$p1"; pwfile p2 "$p2"; pwfile p3 "$p3"; pwfile p4 "$p4"; pwfile p5 "$p5"
run 0 "an account with the first password" smail-admin add --password-file p1 hist@agency.gov
# chpw OLD NEW: change hist@agency.gov's password.
chpw() {
	smail-register -u hist@agency.gov --change-password --password-file "$1" \
		--new-password-file "$2"
}
pwfile try 'Kite#Zebra43x'
run 65 "an increment of the current password is refused" chpw p1 try
err_has "as too close to a previous one" 'previous'
err_lines "one line" 1
pwfile try 'kITE#zEBRA42X'
run 65 "the current password in other case is refused" chpw p1 try
pwfile try 'Kite#Zebra4x'
run 65 "with a digit fewer too" chpw p1 try
pwfile try 'kite#zebra43x'
run 65 "a password breaking a policy rule and the history" chpw p1 try
err_has "names the policy rule" 'uppercase'
err_has "and the history rule" 'previous'
err_lines "each on its own line" 2
run 0 "the first password still signs in" smail-register --login --password-file p1 hist@agency.gov
run 77 "the refused passwords did not take" \
	smail-register --login --password-file try hist@agency.gov
run 0 "change 1" chpw p1 p2
run 0 "change 2" chpw p2 p3
run 0 "change 3" chpw p3 p4
run 65 "after three changes the first is still refused" chpw p4 p1
err_has "as a previous password" 'previous'
pwfile try 'Tulip&River78q'
run 65 "an increment of the second is refused" chpw p4 try
run 0 "change 4" chpw p4 p5
run 0 "after four changes the first is allowed again" chpw p5 p1
run 0 "and signs in" smail-register --login --password-file p1 hist@agency.gov
run 77 "the one before does not" smail-register --login --password-file p5 hist@agency.gov
done_testing
