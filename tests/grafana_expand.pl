# grafana_expand.pl: Grafana's template variables and PostgreSQL macros,
# expanded as the data source does, for the suites that run the shipped
# dashboards' SQL (store_grafana.sh, citus.sh).
#
# Usage: perl tests/grafana_expand.pl DASHBOARD.json OUTDIR FROM_EPOCH TO_EPOCH [VAR VALUE]...
# Writes one file per query (template variable queries, then panel
# targets), named NN.sql, with its title in NN.title and its kind
# (variable or panel) in NN.kind.
use strict;
use warnings;
use JSON::PP;
use POSIX qw(strftime floor);

my ($file, $outdir, $from, $to, %vars) = @ARGV;
my $rfc = sub { strftime("%Y-%m-%dT%H:%M:%SZ", gmtime($_[0])) };
my ($from_s, $to_s) = ($rfc->($from), $rfc->($to));
my $interval = "1m";
my $interval_ms = 60000;

# Grafana's gtime.ParseInterval for the intervals dashboards use
sub seconds {
	my ($s) = @_;
	$s =~ s/^\s+|\s+$//g;
	$s =~ s/^'(.*)'$/$1/;
	my %unit = (ms => 0.001, s => 1, m => 60, h => 3600, d => 86400, w => 604800);
	die "unrecognized interval \"$s\"\n" unless $s =~ /^(\d+)(ms|s|m|h|d|w)$/;
	return $1 * $unit{$2};
}

# the macros of Grafana's PostgreSQL data source (macros.go)
sub macro {
	my ($name, $args) = @_;
	my @a = map { s/^\s+|\s+$//gr } split /,/, $args;
	if ($name eq 'time') { return "$a[0] AS \"time\"" }
	if ($name eq 'timeEpoch') { return "extract(epoch from $a[0]) as \"time\"" }
	if ($name eq 'timeFilter') { return "$a[0] BETWEEN '$from_s' AND '$to_s'" }
	if ($name eq 'timeFrom') { return "'$from_s'" }
	if ($name eq 'timeTo') { return "'$to_s'" }
	if ($name eq 'timeGroup' || $name eq 'timeGroupAlias') {
		die "$name needs a column and an interval\n" if @a < 2;
		my $sec = seconds($a[1]);
		my $g = "floor(extract(epoch from $a[0])/$sec)*$sec";
		return $name eq 'timeGroupAlias' ? "$g AS \"time\"" : $g;
	}
	if ($name eq 'unixEpochFilter') { return "$a[0] >= $from AND $a[0] <= $to" }
	if ($name eq 'unixEpochFrom') { return "$from" }
	if ($name eq 'unixEpochTo') { return "$to" }
	if ($name eq 'unixEpochGroup' || $name eq 'unixEpochGroupAlias') {
		my $sec = seconds($a[1]);
		my $g = "floor($a[0]/$sec)*$sec";
		return $name eq 'unixEpochGroupAlias' ? "$g AS \"time\"" : $g;
	}
	die "unrecognized macro \$__$name\n";
}

sub expand {
	my ($sql) = @_;
	# variables first, as Grafana interpolates them before the macros
	$sql =~ s/\$__interval_ms\b/$interval_ms/g;
	$sql =~ s/\$__interval\b/$interval/g;
	for my $v (keys %vars) {
		$sql =~ s/\$\{$v\}|\$$v\b/$vars{$v}/g;
	}
	$sql =~ s/\$__(\w+)\(([^()]*)\)/macro($1, $2)/ge;
	die "unexpanded variable or macro in: $sql\n" if $sql =~ /\$\w/;
	return $sql;
}

local $/;
open my $fh, "<", $file or die "cannot open $file: $!\n";
my $d = JSON::PP->new->decode(<$fh>);
my $n = 0;
for my $v (@{ $d->{templating}{list} || [] }) {
	next unless ($v->{type} // '') eq 'query';
	my $q = ref $v->{query} ? $v->{query}{query} : $v->{query};
	$n++;
	open my $o, ">", sprintf("%s/%02d.sql", $outdir, $n) or die;
	print $o expand($q), ";\n";
	open my $t, ">", sprintf("%s/%02d.title", $outdir, $n) or die;
	print $t "variable \$$v->{name}";
	open my $k, ">", sprintf("%s/%02d.kind", $outdir, $n) or die;
	print $k "variable";
}
for my $p (@{ $d->{panels} }) {
	for my $tg (@{ $p->{targets} }) {
		$n++;
		open my $o, ">", sprintf("%s/%02d.sql", $outdir, $n) or die;
		print $o expand($tg->{rawSql}), ";\n";
		open my $t, ">", sprintf("%s/%02d.title", $outdir, $n) or die;
		print $t "panel \"$p->{title}\"";
		open my $k, ">", sprintf("%s/%02d.kind", $outdir, $n) or die;
		print $k "panel";
	}
}
