#!/usr/bin/env bash
# perfdriver-man.sh: write perfdriver's man page (roff, on stdout) from the
# driver's own help texts.
#
# Owns: the man page's layout.  Its content has one source, the help texts
# that perfdriver prints: "perfdriver --help" (driver/main.c: the commands,
# connections, exit status) and "perfdriver help COMMAND" for each command it
# lists (the cmd_*.c files and their option parsers).  The help texts sit
# beside the option parsers, where an option is added, so the man page cannot
# fall behind; tests/suites/zz_packages.sh checks that every line of every
# help text is in the rendered page and every parsed option in a help text.
#
# Must not: hold any text about commands or options of its own.
#
# Help text conventions it relies on (anything else passes through as text):
#   "Usage: perfdriver NAME ..." and aligned "       perfdriver NAME ..." lines
#   a line "Heading:" at column 0 starts a group of options
#   an option line starts with spaces and "-": "  -d, --dbname=ARG   what";
#   deeper-indented lines that follow continue its description
#   a blank line ends a paragraph
#
# Usage: scripts/perfdriver-man.sh PATH/TO/perfdriver > perfdriver.1
# The date is SOURCE_DATE_EPOCH's when it is set (reproducible packages).
set -euo pipefail

pd=${1:?usage: perfdriver-man.sh PATH/TO/perfdriver}
version=$("$pd" --version | head -n 1)
top=$("$pd" --help)
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
else
	date=$(date -u +%Y-%m-%d)
fi
# the commands: "  perfdriver NAME ..." lines of the top help, but "help"
mapfile -t commands < <(printf '%s\n' "$top" |
	sed -n 's/^  perfdriver \([a-z][a-z0-9-]*\).*/\1/p' | grep -vx help)

# convert: one help text (stdin) to roff.  mode=top also splits off the
# synopsis, the command list and the exit status into their sections.
convert() {
	awk -v mode="$1" '
	function esc(s) {
		gsub(/\\/, "\\e", s)
		gsub(/-/, "\\-", s)
		if (s ~ /^[.\047]/)
			s = "\\&" s
		return s
	}
	# "-d," "--dbname=ARG": names bold, arguments italic
	function fmt_opt(tok,   name, arg, tail) {
		tail = ""
		if (tok ~ /,$/) { tail = ","; tok = substr(tok, 1, length(tok) - 1) }
		name = tok; arg = ""
		if (index(tok, "=") > 0) {
			name = substr(tok, 1, index(tok, "=") - 1)
			arg = substr(tok, index(tok, "="))
		}
		return "\\fB" esc(name) "\\fR" (arg != "" ? "=\\fI" esc(substr(arg, 2)) "\\fR" : "") tail
	}
	function end_pre() { if (pre) { print ".fi"; pre = 0 } }
	# start a paragraph when the previous line ended one
	function para() { end_pre(); if (pp) { print ".PP"; pp = 0 } }
	BEGIN { pp = 0; inopt = 0; pre = 0; usage = 0; section = "" }
	# usage lines
	mode == "cmd" && /^Usage:/ {
		sub(/^Usage: */, "")
		print ".nf"; print "\\fB" esc($1 " " $2) "\\fR" esc(substr($0, length($1 " " $2) + 1)); usage = 1
		next
	}
	usage && /^       perfdriver / {
		sub(/^ */, "")
		print "\\fB" esc($1 " " $2) "\\fR" esc(substr($0, length($1 " " $2) + 1))
		next
	}
	usage { print ".fi"; usage = 0; pp = 1 }
	mode == "top" && NR == 1 { next }
	mode == "top" && /^Usage:$/ { section = "usage"; next }
	mode == "top" && section == "usage" && /^  perfdriver / {
		line = $0; sub(/^  /, "", line)
		split(line, w, /  +/)
		syn[++nsyn] = w[1]; sum[nsyn] = w[2]
		next
	}
	mode == "top" && section == "usage" && /^   +[^ ]/ {
		line = $0; sub(/^ +/, "", line); sum[nsyn] = sum[nsyn] (sum[nsyn] == "" ? "" : " ") line
		next
	}
	mode == "top" && section == "usage" && /^$/ {
		section = ""
		print ".SH SYNOPSIS"; print ".nf"
		for (i = 1; i <= nsyn; i++) {
			split(syn[i], w, / /); rest = substr(syn[i], length(w[1] " " w[2]) + 1)
			print "\\fB" esc(w[1] " " w[2]) "\\fR" esc(rest)
		}
		print ".fi"
		print ".SH DESCRIPTION"
		for (i = 1; i <= nsyn; i++) {
			split(syn[i], w, / /); rest = substr(syn[i], length(w[1] " " w[2]) + 1)
			print ".TP"; print "\\fB" esc(w[1] " " w[2]) "\\fR" esc(rest); print esc(sum[i])
		}
		pp = 1
		next
	}
	/^$/ { inopt = 0; end_pre(); pp = 1; next }
	mode == "top" && /^Exit status:/ {
		end_pre(); sub(/^Exit status: */, ""); print ".SH EXIT STATUS"; pp = 0
	}
	# a heading of an option group
	/^[^ ].*:$/ { inopt = 0; pp = 1; para(); print "\\fB" esc($0) "\\fR"; next }
	# an option: its spec, then its description
	/^ +-/ {
		end_pre()
		line = $0; sub(/^ +/, "", line)
		n = split(line, w, / /); spec = ""; i = 1
		while (i <= n && w[i] ~ /^-/) {
			spec = spec (spec == "" ? "" : " ") fmt_opt(w[i])
			more = (w[i] ~ /,$/); i++
			if (!more) break
		}
		desc = ""
		for (; i <= n; i++) if (w[i] != "") desc = desc (desc == "" ? "" : " ") w[i]
		print ".TP"; print spec
		if (desc != "") print esc(desc)
		inopt = 1; pp = 0
		next
	}
	inopt && /^    +[^ ]/ { line = $0; sub(/^ +/, "", line); print esc(line); next }
	# other indented lines keep their layout
	/^ +[^ ]/ {
		if (!pre) { if (inopt) pp = 1; inopt = 0; para(); print ".nf"; pre = 1 }
		print esc($0); next
	}
	{
		if (inopt) pp = 1
		inopt = 0; para()
		if (mode == "cmd" && $0 ~ /^Exit status:/) {
			sub(/^Exit status: */, "")
			print "\\fBExit status:\\fR " esc($0)
		} else
			print esc($0)
	}
	END { end_pre(); if (usage) print ".fi" }
	'
}

name_line=$(printf '%s\n' "$top" | head -n 1)
cat <<HEAD
.\\" perfdriver's man page, generated by scripts/perfdriver-man.sh from
.\\" "perfdriver --help" and "perfdriver help COMMAND": edit those help texts
.\\" (driver/main.c, driver/cmd_*.c), not this file.
.TH PERFDRIVER 1 "$date" "$version" "User Commands"
.nh
.ad l
.SH NAME
perfdriver \\- ${name_line#perfdriver: }
HEAD
printf '%s\n' "$top" | convert top
echo ".SH COMMANDS"
for c in "${commands[@]}"; do
	echo ".SS perfdriver $c"
	"$pd" help "$c" | convert cmd
done
cat <<'TAIL'
.SH SEE ALSO
\fBpgbench\fR(1), \fBpsql\fR(1)
TAIL
