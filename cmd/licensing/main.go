// Command licensing runs the licence ledger from the command line: every
// command of the partner guide, the expiry sweep and notification delivery,
// and a demo of the whole journey.
//
//	licensing demo                                              # the guide, end to end, on a throwaway database
//	licensing migrate                                           # create ./licensing.db
//	licensing partner add --id acme --name "Acme Distribution"  # the ref acme; the id is generated
//	licensing --as partner:acme company add --id globex --name Globex --po PO-1 --quantity 25 --assign
//	licensing --as partner:acme companies                       # their ids and refs
//	licensing --as company:globex summary --company globex
//	licensing serve                                             # the portal and the HTTP API on 127.0.0.1:8080
//	licensing simulate --seed 7 --years 3                       # the rules on random commands, every invariant checked
//
// "licensing serve" serves the portal (package web) at / and the HTTP API
// (package httpapi) at /api/v1/ on the same database, with a development
// sign-in at /dev/sign-in that lets whoever connects pick any actor; so it
// listens on a loopback address (--addr, default 127.0.0.1:8080) or not at
// all, and every page says it is for development only.
//
// The ledger lives in a SQLite file, ./licensing.db unless --db or
// LICENSING_DB names another file or a PostgreSQL URL (postgres://...).
// "licensing migrate" creates the SQLite file and the ledger's schema, or
// brings them up to date, and it is the only command that does (demo and
// serve, made for trying the ledger, create a missing SQLite file of their
// own): every other command refuses a file that does not exist, a file or database without
// the ledger's schema (run migrate), and one migrated by a later build, and
// writes nothing to it. So a mistyped --db, or the SQLite file of another
// program, never turns into a ledger by accident.
//
// Global flags, accepted before or after the subcommand:
//
//	--db PATH|URL   the database (env LICENSING_DB)
//	--as ACTOR      who acts: system, partner:<id|ref> or company:<id|ref>,
//	                with an optional /<user> (env LICENSING_AS; default system)
//	--now TIME      the ledger's clock for this invocation, RFC 3339 or a
//	                date (env LICENSING_NOW; default the system clock)
//	--key KEY       an idempotency key for the command
//	--json          machine-readable output
//
// "licensing help" lists the commands and "licensing help <command>" gives
// a command's flags. The first word of a two-word command, such as
// "licensing order", lists the commands that begin with it; as a command
// it is unfinished, so the list goes to stderr with exit status 2, while
// "licensing help order" prints it on stdout with status 0. A mistyped
// command is an error that names the nearest commands, if any are near:
// unknown command "ordrs"; did you mean "orders"?
//
// "licensing simulate --seed N --years 3" runs package licensingtest's
// simulator on a throwaway SQLite database: the ledger's commands drawn at
// random, by random actors, over years of virtual time, with every
// invariant checked after every step. It prints a row per month (seats,
// allocations, expiries, renewals, reminders, ...) and exits 1 with the
// code invariant_broken, naming the step, the instant and the invariant,
// at the first one broken; the same seed gives the same run, and -v prints
// its steps on stderr.
//
// "licensing version" (or --version) prints the module version and VCS
// revision the binary was built from, and "licensing completion
// bash|zsh|fish" a completion script made from the command table:
//
//	source <(licensing completion bash)                # in ~/.bashrc
//	source <(licensing completion zsh)                 # in ~/.zshrc, after compinit
//	licensing completion fish > ~/.config/fish/completions/licensing.fish
//
// Each subcommand is one ledger command, run in one transaction: it either
// happens whole or writes nothing. Errors go to stderr with their stable code
// (licensing.ErrorCode), and the exit status says what kind of error it was:
// 2 invalid input, 3 not found or forbidden, 4 a conflict (conflict, wrong
// order state, already licensed, insufficient licences, not eligible,
// idempotency key reused), 1 anything else. "licensing deliver" prints its
// counts (delivered, failed, parked) and exits with status 1, code
// delivery_failed, when any notification failed or was parked in the pass,
// so that a scheduler notices.
//
// Ids and refs. The ledger generates every id: "ptn_..." for a partner,
// "cmp_..." for a company, and so on. "partner add --id X" and "company add
// --id X" give the new partner or company the ref X, the host's own key for
// it, unique beneath its parent partner (or among its partner's companies):
// the same ref twice there is a conflict, while another partner may use it
// too. Wherever a command takes a partner or a company (--partner, --parent,
// --company, the COMPANY of "company set" and "company show", the PARTNER of
// "partner show") it takes the id or the ref, looked up within the actor's
// tenancy only: the system reaches every partner and company, a partner
// manager its own partner and everything beneath it, a company manager its
// own company. So another tenant's ref is never found, and reads exactly
// like a name that does not exist. The partner or company of --as is looked
// up as the system, since the command line stands for the host, which has
// authenticated its user. A ref that names more than one partner or company
// in reach is a usage error (exit 2) that asks for the id.
//
// Listings (orders, licences, events, notifications, tiers, partners,
// companies, learners) print a page at a time: --limit sets its size and,
// when there is more, a last line "next: --after CURSOR" gives the flag
// that reads the next page. With --json every listing prints the one shape
// {"items": [...], "next": "CURSOR"}, next left out on the last page.
//
// With LICENSING_IDS=sequential the ids are made from the audit trail
// instead of time and randomness, so that a script gets the same ids on
// every run: the id of an object made by a command is "<kind>_<seq>-<n>",
// where seq is the sequence number of the command's first event (six
// digits) and n counts the ids that invocation made (four digits), as in
// ord_000005-0001. That mode is for one writer at a time, as in a script.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
