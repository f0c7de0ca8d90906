import Pipelines

enum Help {
    static let version = "pipeline \(ToolVersion.current)"

    /// The general help with each family's own commands.
    static func general(families: [StageFamily]) -> String {
        let commands = families.flatMap { family in family.commands.map { (family.name, $0) } }
        guard !commands.isEmpty else { return generalText }
        var text = generalText + "Family commands:\n"
        for (family, command) in commands {
            text += "  pipeline \(family) \(command.verb) \(command.usage)\n      \(command.summary)\n"
        }
        return text + "\n"
    }

    static let generalText = """
        pipeline — resumable batch pipelines for commerce back offices

        Usage:
          pipeline run FILE [--param NAME=VALUE]... [--dry-run] [--restart | --rerun] [--state URL]
          pipeline plan FILE [--param NAME=VALUE]... [--state URL]
          pipeline runs [FILE] [--state URL] [--limit N]
          pipeline runs show RUN [FILE] [--state URL]
          pipeline validate FILE... [--param NAME=VALUE]...
          pipeline stages [KIND]
          pipeline db migrate [--database URL]
          pipeline due FILE... [--now TIME]
          pipeline schedule show FILE [--from TIME] [--count N] [--now TIME]
          pipeline schedule systemd FILE [--user] [--install [--root DIR]] [--out DIR]
          pipeline schedule cron FILE
          pipeline notify test FILE
          pipeline --version

        Commands:
          run        validate FILE, then run its stages in dependency order, resuming an interrupted run
          plan       show what a run would do, and which stages of this run are already complete
          runs       list recorded runs, or show one with its stages, counts, timings and error
          validate   check pipeline files and print every error
          stages     list stage kinds, or the parameters of one kind
          db         db migrate: create or upgrade the tables of every stage family
          due        run the slots of scheduled pipelines that are due (for a runner that calls it every minute)
          schedule   show a schedule's next and missed slots, or write its systemd units or crontab line
          notify     notify test: send a test event to every notification channel of a file now

        Run `pipeline COMMAND --help` for a command's options.
        Exit codes: 0 ok, 64 usage, 65 bad data, 66 missing input, 70 internal error,
        74 I/O error, 75 locked (retry later), 78 configuration error,
        130/143 stopped by SIGINT/SIGTERM (resumable).

        """

    private static func familyText(_ family: StageFamily?) -> String {
        guard let family else { return generalText }
        let lines = family.commands.map { "  pipeline \(family.name) \($0.verb) \($0.usage)\n      \($0.summary)\n" }
        return "Usage:\n" + lines.joined()
            + "\n--database defaults to $DATABASE_URL, else sqlite:var/store.db in the current folder.\n"
    }

    static func text(for command: Invocation.Command, family: StageFamily? = nil) -> String {
        switch command {
        case .family:
            familyText(family)
        case .notify:
            """
            Usage: pipeline notify test FILE [--param NAME=VALUE]...

            Sends a `notify.test` event, now and once, to every channel of the file's `notify:` blocks
            (webhooks, email, commands), and prints for each whether it was delivered. It does not go
            through the outbox and records nothing. Exit 0 when every channel took it, 74 otherwise.

            """
        case .due:
            """
            Usage: pipeline due FILE... [--now TIME] [--param NAME=VALUE]... [--state URL]

            For a runner that calls it every minute (cron: `pipeline schedule cron FILE` prints the line).
            Runs the slots of each file's schedule that are due now, oldest first across the files:
            interrupted slots, the latest slot if it never ran, and with `catch_up: all` every slot missed
            since the last completed one. Prints nothing when nothing is due; a slot another process is
            running is skipped. A file whose slot fails runs no later slot; the other files go on, and the
            exit status is the first failure's.

            """
        case .schedule:
            """
            Usage:
              pipeline schedule show FILE [--from TIME] [--count N] [--now TIME]
              pipeline schedule systemd FILE [--user] [--install [--root DIR]] [--out DIR]
              pipeline schedule cron FILE

            show      the schedule, its last completed slot, the slots not completed since, what is due
                      now, and the next N slots (default 10) after --from (default now), in the schedule's
                      time zone and in UTC
            systemd   writes pipeline-NAME.service and pipeline-NAME.timer into --out (default: here);
                      --install puts them into /etc/systemd/system (--user: ~/.config/systemd/user),
                      reloads systemd and enables the timer; --root DIR installs below DIR offline
            cron      prints the crontab line that runs `pipeline due FILE` every minute

            TIME is a date and time with its UTC offset, e.g. 2026-03-08T02:00:00-08:00.

            """
        case .run:
            """
            Usage: pipeline run FILE [options]

            Validates FILE, then runs its stages in dependency order.

            Options:
              -p, --param NAME=VALUE   override a param declared under `params:` (repeatable)
              --dry-run                print the plan (stages, resolved params, what each reads and
                                       writes) and touch nothing
              --restart                start this run (same pipeline and params) over instead of
                                       resuming it; committed output is not undone
              --rerun                  run again although this run already completed
              --slot TIME              a scheduled pipeline: run this slot (e.g. 2026-03-08T02:00:00-08:00)
              --ignore-window          a scheduled pipeline: run the latest slot although the window is shut
              --force                  let stages go past their safety gates (each stage's help names its gates)
              --now TIME               take TIME as the current time when choosing slots (rehearsals, tests)
              --state URL              keep run records and checkpoints here (sqlite:PATH or
                                       postgres://...); default: state.db beside the SQLite database
              --metrics-file FILE      also write the run's Prometheus textfile to FILE
              --log-format text|json   log lines on stderr as text (default) or one JSON object per line
              -v, --verbose            also log debug events
              -h, --help               show this help

            A pipeline with a `schedule:` runs the slot the current time falls in (interrupted slots first,
            then missed ones with `catch_up: all`); outside the schedule's window it exits 0 with a notice.
            A run that was interrupted (killed, SIGINT/SIGTERM, a lost connection) resumes from its last
            committed chunk when run again with the same params. A second run of the same pipeline and
            params while one is running exits 75.
            Data goes to stdout, logs and progress to stderr. NO_COLOR disables colour.

            """
        case .validate:
            """
            Usage: pipeline validate FILE... [--param NAME=VALUE]...

            Checks each pipeline file and prints every error as FILE:LINE:COLUMN: MESSAGE.
            Exits 0 when all files are valid, 78 otherwise (66 when a file does not exist).

            """
        case .plan:
            """
            Usage: pipeline plan FILE [--param NAME=VALUE]... [--state URL]

            Prints the stages in run order with their resolved params and what each reads and writes,
            and, from the state store, which stages of this pipeline and params are already complete and
            whether the next run starts, resumes, or has nothing to do.

            """
        case .runs:
            """
            Usage: pipeline runs [FILE] [--state URL] [--limit N]
                   pipeline runs show RUN [FILE] [--state URL]

            Lists recorded runs, newest first (of FILE's pipeline when given), or shows one run's stages
            with their counts (read, written, rejected, skipped), timings and errors. The state store is
            --state, else FILE's, else var/state.db in the current folder. Each run also leaves
            var/runs/RUN.json beside its pipeline file.

            """
        case .db:
            """
            Usage: pipeline db migrate [--database URL]

            Creates or upgrades the tables every stage family keeps (see `pipeline stages KIND`) in URL,
            else $DATABASE_URL, else sqlite:var/store.db. Stages also do it before they run.

            """
        case .stages:
            """
            Usage: pipeline stages [KIND]

            Lists the stage kinds by family; with KIND, its parameters (types in words, defaults and
            docs), the settings it takes, its counters, outputs and events.

            """
        }
    }
}
