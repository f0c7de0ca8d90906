enum Help {
    static let version = "pipeline 0.1.0"

    static let general = """
        pipeline — resumable batch pipelines for commerce back offices

        Usage:
          pipeline run FILE [--param NAME=VALUE]... [--dry-run] [--log-format text|json]
          pipeline validate FILE... [--param NAME=VALUE]...
          pipeline stages [KIND]
          pipeline --version

        Commands:
          run        validate FILE, then run its stages in dependency order
          validate   check pipeline files and print every error
          stages     list stage kinds, or the parameters of one kind

        Run `pipeline COMMAND --help` for a command's options.
        Exit codes: 0 ok, 64 usage, 65 bad data, 66 missing input, 70 internal error,
        74 I/O error, 75 locked (retry later), 78 configuration error.

        """

    static func text(for command: Invocation.Command) -> String {
        switch command {
        case .run:
            """
            Usage: pipeline run FILE [options]

            Validates FILE, then runs its stages in dependency order.

            Options:
              -p, --param NAME=VALUE   override a param declared under `params:` (repeatable)
              --dry-run                print the plan (stages, resolved params, what each reads and
                                       writes) and touch nothing
              --log-format text|json   log lines on stderr as text (default) or one JSON object per line
              -v, --verbose            also log debug events
              -h, --help               show this help

            Data goes to stdout, logs and progress to stderr. NO_COLOR disables colour.

            """
        case .validate:
            """
            Usage: pipeline validate FILE... [--param NAME=VALUE]...

            Checks each pipeline file and prints every error as FILE:LINE:COLUMN: MESSAGE.
            Exits 0 when all files are valid, 78 otherwise (66 when a file does not exist).

            """
        case .stages:
            """
            Usage: pipeline stages [KIND]

            Lists the stage kinds; with KIND, its parameters, types, defaults and docs.

            """
        }
    }
}
