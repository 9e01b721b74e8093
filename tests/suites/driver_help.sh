#!/usr/bin/env bash
# driver_help.sh: perfdriver's help, man page and --version (no server
# needed).
#
# Checks that the help texts cover the driver and that the man page agrees
# with them: every command of "perfdriver --help" prints the same for "help
# COMMAND" and "COMMAND --help"; every option its parser accepts (the
# getopt_long tables and short-option strings of driver/cmd_NAME.c and
# driver/NAME_opts.c) is in NAME's help; every line of every help text is in
# the rendered man page, which man renders without warnings; --version shows
# perfstore.control's default_version and the libpq and libpg_query this
# binary loads, cross-checked with the Debian packages that hold them.
# Uses driver/perfdriver and driver/perfdriver.1 from "make".
# The last line is "N passed, N failed"; the exit status is non-zero on
# failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
. "$ROOT/tests/lib.sh"
PD=driver/perfdriver
MAN=driver/perfdriver.1

TMP=$(mktemp -d /tmp/perfstore_help.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$PD" ] || [ ! -f "$MAN" ]; then
	not_ok "driver/perfdriver and driver/perfdriver.1 are built (run make)"
	finish
fi

# ---- commands: help COMMAND is COMMAND --help ---------------------------
"$PD" --help >"$TMP/top" 2>&1
rc=$?
mapfile -t commands < <(sed -n 's/^  perfdriver \([a-z][a-z0-9-]*\).*/\1/p' "$TMP/top" | grep -vx help)
if [ "$rc" -eq 0 ] && [ "${#commands[@]}" -ge 4 ] &&
	printf '%s\n' "${commands[@]}" | grep -qx run; then
	ok "perfdriver --help lists ${#commands[@]} commands: ${commands[*]}"
else
	not_ok "perfdriver --help lists the commands" "$(cat "$TMP/top")"
fi
for c in "${commands[@]}"; do
	"$PD" help "$c" >"$TMP/help_$c" 2>&1
	rc1=$?
	"$PD" "$c" --help >"$TMP/dash_$c" 2>&1
	rc2=$?
	"$PD" "$c" -h >"$TMP/h_$c" 2>&1
	rc3=$?
	if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && [ "$rc3" -eq 0 ] &&
		cmp -s "$TMP/help_$c" "$TMP/dash_$c" && cmp -s "$TMP/help_$c" "$TMP/h_$c" &&
		head -n 1 "$TMP/help_$c" | grep -q "^Usage: perfdriver $c"; then
		ok "perfdriver help $c prints its usage, as perfdriver $c --help and -h do"
	else
		not_ok "perfdriver help $c = perfdriver $c --help = -h (exit $rc1, $rc2, $rc3)" \
			"$(diff "$TMP/help_$c" "$TMP/dash_$c" | head -n 10; head -n 3 "$TMP/help_$c")"
	fi
done
for args in "help" "-h" "help help"; do
	# shellcheck disable=SC2086
	if "$PD" $args 2>&1 | cmp -s - "$TMP/top"; then
		ok "perfdriver $args prints the top-level help"
	else
		not_ok "perfdriver $args prints the top-level help"
	fi
done

err=$("$PD" help nosuch 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [ "$err" = 'perfdriver: error: unrecognized command "nosuch"
hint: Try "perfdriver --help".' ]; then
	ok "perfdriver help nosuch: exit 2, the unrecognized command named"
else
	not_ok "perfdriver help nosuch: exit 2 (got $rc)" "$err"
fi
err=$("$PD" help run init 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && printf '%s\n' "$err" | grep -qx 'perfdriver: error: too many arguments for "help"'; then
	ok "perfdriver help run init: exit 2, too many arguments"
else
	not_ok "perfdriver help run init: exit 2 (got $rc)" "$err"
fi
out=$("$PD" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 2 ] && [ "$out" = "$(cat "$TMP/top")" ]; then
	ok "perfdriver without a command: the usage on stderr, exit 2"
else
	not_ok "perfdriver without a command: usage on stderr, exit 2 (got $rc)"
fi

# ---- every option the parsers accept is in its command's help -----------
for c in "${commands[@]}"; do
	srcs=()
	for f in "driver/cmd_$c.c" "driver/${c}_opts.c"; do
		[ -f "$f" ] && srcs+=("$f")
	done
	if [ ${#srcs[@]} -eq 0 ]; then
		not_ok "the option parser of $c is in driver/cmd_$c.c or driver/${c}_opts.c"
		continue
	fi
	# long options: the names of the struct option tables; short ones: the
	# getopt_long option strings
	longs=$(cat "${srcs[@]}" | awk '/struct option/ { t = 1 } t && /\{NULL/ { t = 0 } t' |
		sed -n 's/^[[:space:]]*{"\([a-z0-9-]*\)",.*/\1/p' | grep -vx help | sort -u)
	shorts=$(cat "${srcs[@]}" | sed -n 's/.*getopt_long([^"]*"\([^"]*\)".*/\1/p' |
		tr -d ':+' | fold -w 1 | grep -vx h | sort -u)
	missing=""
	n=0
	for o in $longs; do
		n=$((n + 1))
		grep -Eq -- "(^|[ ,])--$o([= ]|\$)" "$TMP/help_$c" || missing="$missing --$o"
	done
	for o in $shorts; do
		n=$((n + 1))
		grep -Eq -- "^ +-$o[, ]" "$TMP/help_$c" || missing="$missing -$o"
	done
	if [ "$n" -gt 0 ] && [ -z "$missing" ]; then
		ok "perfdriver help $c covers all $n options of its parser"
	else
		not_ok "perfdriver help $c covers its parser's options (of $n, missing:$missing)"
	fi
done

# ---- the man page: rendered cleanly, every help line in it --------------
warn=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$MAN" 2>&1 >/dev/null)
if [ -z "$warn" ]; then
	ok "man renders driver/perfdriver.1 without warnings"
else
	not_ok "man renders driver/perfdriver.1 without warnings" "$warn"
fi
# whitespace collapsed, the labels the man page turns into headings dropped
norm() { sed -E 's/^(Usage|Exit status): *//' | tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'; }
groff -man -Tascii -P-c -rLL=100n "$MAN" 2>/dev/null | col -bx | tr -s ' \t\n' '   ' >"$TMP/man.txt"
for f in top "${commands[@]/#/help_}"; do
	label=${f/help_/help }
	[ "$f" = top ] && label="--help"
	lines=0
	missing=""
	while IFS= read -r line; do
		# the first line of --help is the man page's NAME line
		l=$(printf '%s\n' "$line" | sed 's/^perfdriver: /perfdriver - /' | norm)
		[ -n "$l" ] || continue
		lines=$((lines + 1))
		grep -qF -- "$l" "$TMP/man.txt" || missing="$missing
$l"
	done <"$TMP/$f"
	if [ "$lines" -gt 3 ] && [ -z "$missing" ]; then
		ok "the man page holds all $lines lines of perfdriver $label"
	else
		not_ok "the man page holds every line of perfdriver $label ($lines lines)" "missing:$missing"
	fi
done
if grep -q '^\.SS perfdriver ' "$MAN" &&
	[ "$(grep -c '^\.SS perfdriver ' "$MAN")" -eq "${#commands[@]}" ]; then
	ok "the man page has one COMMANDS subsection per command"
else
	not_ok "the man page has one COMMANDS subsection per command"
fi

# ---- --version -------------------------------------------------------------
"$PD" --version >"$TMP/version" 2>&1
rc=$?
control=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" perfstore.control)
if [ "$rc" -eq 0 ] && [ "$(sed -n 1p "$TMP/version")" = "perfdriver $control" ] &&
	[ "$(wc -l <"$TMP/version")" -eq 3 ]; then
	ok "perfdriver --version: perfdriver $control (perfstore.control's default_version)"
else
	not_ok "perfdriver --version shows perfdriver $control" "$(cat "$TMP/version")"
fi
if "$PD" -V | cmp -s - "$TMP/version"; then
	ok "perfdriver -V = perfdriver --version"
else
	not_ok "perfdriver -V = perfdriver --version"
fi
if grep -q "^\.TH PERFDRIVER 1 \"[0-9-]*\" \"perfdriver $control\"" "$MAN"; then
	ok "the man page's title carries version $control"
else
	not_ok "the man page's title carries version $control" "$(grep '^\.TH' "$MAN")"
fi
# the libraries actually loaded, and the Debian packages holding them
pq_line=$(sed -n 2p "$TMP/version")
pgq_line=$(sed -n 3p "$TMP/version")
pq_file=$(ldd "$PD" | awk '$1 ~ /^libpq\.so/ { print $3 }')
pgq_file=$(ldd "$PD" | awk '$1 ~ /^libpg_query\.so/ { print $3 }')
if command -v dpkg-query >/dev/null && [ -n "$pq_file" ] &&
	pq_pkg=$(dpkg -S "$(readlink -f "$pq_file")" 2>/dev/null | head -n 1 | cut -d: -f1) &&
	[ -n "$pq_pkg" ]; then
	pq_ver=$(dpkg-query -W -f '${Version}' "$pq_pkg" | sed 's/-[^-]*$//')
	if [ "$pq_line" = "libpq $pq_ver" ]; then
		ok "perfdriver --version: libpq $pq_ver, the version of $pq_pkg, which holds the loaded $pq_file"
	else
		not_ok "perfdriver --version shows libpq $pq_ver ($pq_pkg)" "$pq_line"
	fi
elif printf '%s\n' "$pq_line" | grep -Eq '^libpq [0-9]+\.[0-9]+$'; then
	ok "perfdriver --version: $pq_line (no Debian package to compare with)"
else
	not_ok "perfdriver --version shows libpq's version" "$pq_line"
fi
if [ -n "$pgq_file" ] && command -v dpkg-query >/dev/null &&
	pgq_pkg=$(dpkg -S "$(readlink -f "$pgq_file")" 2>/dev/null | head -n 1 | cut -d: -f1) &&
	[ -n "$pgq_pkg" ]; then
	pgq_ver=$(dpkg-query -W -f '${Version}' "$pgq_pkg" | sed 's/-[^-]*$//')
	if printf '%s\n' "$pgq_line" | grep -q "^libpg_query $pgq_ver (PostgreSQL [0-9.]* parser), $(readlink -f "$pgq_file")\$"; then
		ok "perfdriver --version: libpg_query $pgq_ver, the version of $pgq_pkg, loaded from $(readlink -f "$pgq_file")"
	else
		not_ok "perfdriver --version shows libpg_query $pgq_ver ($pgq_pkg)" "$pgq_line"
	fi
elif printf '%s\n' "$pgq_line" | grep -q '^libpg_query '; then
	ok "perfdriver --version: $pgq_line (no Debian package to compare with)"
else
	not_ok "perfdriver --version shows libpg_query's version" "$pgq_line"
fi

finish
