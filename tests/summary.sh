# summary.sh: sourced by tests/run.sh and tests/suites/driver_unit.sh, which
# add up other programs' "N passed, N failed" lines.
#
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
