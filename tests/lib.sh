# lib.sh: the checks every test suite shares.  Source it from a suite
# (tests/suites/*.sh) after setting ROOT; tests/run.sh sources it for
# summary_counts.
#
#   ok NAME                    count a passed check: "ok - NAME"
#   not_ok NAME [EVIDENCE...]  count a failed check: "not ok - NAME", then each
#                              EVIDENCE indented: a file shows its first 30
#                              lines, anything else is printed as a line
#   check NAME COMMAND...      run COMMAND (stdout and stderr captured); ok
#                              when it exits 0, else not_ok with the command,
#                              its exit status and its output
#   check_eq NAME WANT GOT     ok when the strings are equal, else not_ok with
#                              both
#   count_summary LINE RC      add the counts of another program's
#                              "N passed, N failed" LINE (see summary_counts)
#   finish                     print "N passed, N failed" (the suite's last
#                              line, which tests/run.sh reads) and exit,
#                              non-zero when a check failed
#
# CHECK_TIMES=1 makes ok and not_ok append the suite's seconds so far
# ("[42s]"), for slow suites.
#
# A suite prints nothing after finish; its exit status is non-zero on failure.

pass=0
fail=0
CHECK_TIMES=${CHECK_TIMES:-0}

# the "[Ns]" suffix of ok and not_ok lines with CHECK_TIMES=1
check_time() {
	if [ "$CHECK_TIMES" = 1 ]; then
		printf ' [%ss]' "$SECONDS"
	fi
}

ok() {
	echo "ok - $1$(check_time)"
	pass=$((pass + 1))
}

not_ok() {
	local name=$1 e
	shift
	echo "not ok - $name$(check_time)"
	for e in "$@"; do
		if [ -f "$e" ]; then
			head -n 40 "$e" | cut -c 1-300 | sed 's/^/    /'
		else
			printf '%s\n' "$e" | sed 's/^/    /'
		fi
	done
	fail=$((fail + 1))
}

check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$name"
	elif [ -n "$out" ]; then
		not_ok "$name" "command (exit $rc): $*" "$(printf '%s\n' "$out" | head -n 30 | cut -c 1-300)"
	else
		not_ok "$name" "command (exit $rc, no output): $*"
	fi
}

check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "want: $2" "got:  $3"
	fi
}

# summary_counts LINE RC: prints "P F", the counts of LINE (which may start
# with a "name: " prefix), or "0 1" when LINE is empty: a program that
# prints no summary counts as one failure.  A non-zero exit status RC with
# no failure counted is one failure too.
summary_counts() {
	local p f
	if [ -z "$1" ]; then
		echo "0 1"
		return
	fi
	p=$(echo "$1" | sed -E 's/(^|.*[^0-9])([0-9]+) passed, [0-9]+ failed.*/\2/')
	f=$(echo "$1" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	echo "$p $f"
}

count_summary() {
	local p f
	read -r p f <<<"$(summary_counts "$1" "$2")"
	pass=$((pass + p))
	fail=$((fail + f))
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
