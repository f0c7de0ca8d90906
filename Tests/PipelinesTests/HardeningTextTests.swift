import Foundation
import Testing

@testable import Pipelines

/// Text from hostile inputs: SQL scripts, secrets in locators, control characters, nested defaults.
@Suite(.timeLimit(.minutes(2))) struct HardeningTextTests {
    @Test func statementsAreSplitAsTheDatabasesReadThem() {
        let script = """
            -- a comment; not a statement
            CREATE TABLE a (x text DEFAULT 'semi;colon');
            /* nested /* comment; */ still */ INSERT INTO a VALUES (E'it\\'s;'), ($tag$ ; $tag$);
            CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = CASE WHEN 1 THEN 'y' END; END;
            SELECT "odd;name" FROM a;;
            commit
            """
        let statements = SQLText.statements(script)
        #expect(statements.map { $0.leadingWords.first } == ["CREATE", "INSERT", "CREATE", "SELECT", "COMMIT"])
        #expect(statements.map(\.line) == [2, 3, 4, 5, 6])
        #expect(statements[1].column == 35)
        #expect(statements.map(\.controlsTransaction) == [false, false, false, false, true])
        #expect(statements[3].readsOnly && !statements[1].readsOnly)
    }

    @Test(arguments: [
        ("BEGIN", true), ("begin transaction", true), ("START TRANSACTION", true), ("END", true), ("ABORT", true),
        ("ROLLBACK", true), ("ROLLBACK WORK", true), ("ROLLBACK TO SAVEPOINT s", false), ("ROLLBACK TO s", false),
        ("SAVEPOINT s", false), ("RELEASE s", false), ("PREPARE TRANSACTION 'x'", true), ("PREPARE q AS SELECT 1", false),
    ])
    func transactionControlIsTold(statement: String, controls: Bool) {
        #expect(SQLText.statements(statement).first?.controlsTransaction == controls)
    }

    @Test func nulCharactersAreFoundWithTheirPlace() {
        let place = SQLText.nulPosition(in: "SELECT 1;\nSELECT\0 2")
        #expect(place?.line == 2 && place?.column == 7)
        #expect(SQLText.nulPosition(in: "SELECT 1") == nil)
    }

    /// Each locator form once leaked its password somewhere; libpq's own parser now finds them.
    @Test(arguments: [
        ("postgres://etl:pa%2Fss%3Fw%40rd@db/shop", "pa/ss?w@rd"),
        ("postgres://etl@db/shop?password=Sekr3t&sslmode=disable", "Sekr3t"),
        ("postgres://etl@db/shop?sslpassword=Sekr3t", "Sekr3t"),
        ("postgresql://etl@db/shop?pass%77ord=Sekr3t", "Sekr3t"),
        ("host=db dbname=shop password='Sek r3t' user=etl", "Sek r3t"),
        ("host=db dbname=shop password=Sekr3t", "Sekr3t"),
    ])
    func locatorSecretsAreFoundAndHidden(locator: String, secret: String) throws {
        #expect(SecretMask.secrets(ofLocator: locator).contains(secret))
        let shown = SecretMask.locator(locator)
        #expect(!shown.contains(secret))
        #expect(!shown.contains(secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret))
        #expect(shown.contains("***"))
        let parsed = try DatabaseLocator.parse(locator, relativeTo: "/")
        #expect(!parsed.description.contains(secret))
        #expect(SecretMask.hide(parsed.secrets, in: "error near \(secret) here") == "error near *** here")
    }

    @Test func aURLLibpqCannotReadIsRefusedWithoutQuotingIt() {
        do {
            _ = try DatabaseLocator.parse("postgres://etl:pa/ss?w@rd@db/shop", relativeTo: "/")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .config)
            #expect(!error.message.contains("w@rd") && !error.message.contains("pa/ss"))
        }
    }

    @Test func paramsSplicedIntoASecretAreMaskedWhenRecorded() {
        let secrets = SecretMask.secrets(ofLocator: "postgres://etl:Hunter2Secret@db/shop")
        let shown = SecretMask.params(["PW": "Hunter2Secret", "day": "2026-12-03", "empty": ""], hiding: secrets)
        #expect(shown == ["PW": "***", "day": "2026-12-03", "empty": ""])
    }

    @Test func controlCharactersAreEscaped() {
        #expect("a\u{1B}[31mred\rx\0y\u{7F}\u{85}\u{202E}".escapingControlCharacters == "a\\x1B[31mred\\rx\\0y\\x7F\\u{85}\\u{202E}")
        #expect("line\n\tnext é".escapingControlCharacters == "line\n\tnext é")
    }

    @Test func nestedDefaultsAreSubstituted() {
        let interpolator = Interpolator(params: ["B": "bee", "E": ""], environment: [:])
        let here = SourceLocation(file: "p.yaml", line: 1, column: 1)
        #expect(interpolator.substitute("${A:-${B}}", at: here).text == "bee")
        #expect(interpolator.substitute("x${A:-${E:-${B}-z}}y", at: here).text == "xbee-zy")
        #expect(interpolator.substitute("${B:-${A}}", at: here).diagnostics.isEmpty)
        let missing = interpolator.substitute("${A:-${C}}", at: here)
        #expect(missing.diagnostics.map(\.message) == ["undefined variable 'C' (did you mean 'B'?)"])
    }

    @Test func columnNamesABothDatabasesCanHold() throws {
        try ColumnNames.check(["a", "b", "é"], file: "f.csv", line: 1)
        for (names, column) in [(["a", "B", "A"], 3), (["a", "b\0c"], 2), (["x\u{1B}"], 1), ((0..<1601).map { "c\($0)" }, 1601)] {
            do {
                try ColumnNames.check(names, file: "f.csv", line: 1)
                Issue.record("expected \(names.prefix(3)) to be refused")
            } catch let error as PipelineError {
                #expect(error.code == .data)
                #expect(error.location?.column == column)
            }
        }
    }

    /// SQLite's own text of a REAL drops digits; the shortest form reads back to the same double.
    @Test func sqliteRealsKeepEveryDigit() throws {
        for value in [0.1 + 0.2, -0.0, 1e300, 5e-324, 123456789.123456789, 100.0] {
            let text = SQLiteRow.shortestText(value)
            #expect(Double(text)?.bitPattern == value.bitPattern)
        }
        #expect(SQLiteRow.shortestText(-0.0) == "-0.0")
        #expect(SQLiteRow.shortestText(.infinity) == "Inf")
    }

    @Test func typedColumnsTakeOnlyWhatTheyHoldExactly() {
        let sqliteInteger = ColumnValueRule.forColumn(declared: "INTEGER", dialect: .sqlite)
        #expect(sqliteInteger == .integer(bits: 64))
        #expect(sqliteInteger.problem(with: "-9223372036854775808") == nil)
        #expect(sqliteInteger.problem(with: "9223372036854775808") != nil)
        #expect(sqliteInteger.problem(with: "abc") != nil)
        #expect(sqliteInteger.problem(with: "1.0") != nil)
        #expect(ColumnValueRule.forColumn(declared: "VARCHAR(10)", dialect: .sqlite) == .any)
        #expect(ColumnValueRule.forColumn(declared: "DATE", dialect: .sqlite) == .any)
        let sqliteNumeric = ColumnValueRule.forColumn(declared: "NUMERIC", dialect: .sqlite)
        #expect(sqliteNumeric.problem(with: "123456789012345678") == nil)
        #expect(sqliteNumeric.problem(with: "0.123456789012345678") != nil)
        let money = ColumnValueRule.forColumn(declared: "numeric(10,2)", dialect: .postgres)
        #expect(money == .decimal(precision: 10, scale: 2))
        #expect(money.problem(with: "12345678.99") == nil)
        #expect(money.problem(with: "1.999") != nil)
        #expect(money.problem(with: "123456789.00") != nil)
        #expect(ColumnValueRule.forColumn(declared: "integer", dialect: .postgres).problem(with: "2147483648") != nil)
        #expect(ColumnValueRule.forColumn(declared: "smallint", dialect: .postgres).problem(with: "-32768") == nil)
        #expect(ColumnValueRule.forColumn(declared: "double precision", dialect: .postgres).problem(with: "1e400") != nil)
        #expect(ColumnValueRule.forColumn(declared: "double precision", dialect: .postgres).problem(with: "nan") != nil)
        #expect(ColumnValueRule.forColumn(declared: "boolean", dialect: .postgres).problem(with: "maybe") != nil)
        #expect(ColumnValueRule.forColumn(declared: "text", dialect: .postgres) == .any)
    }
}
