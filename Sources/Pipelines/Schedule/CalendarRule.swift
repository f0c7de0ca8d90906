/// One set of wall-clock minutes a schedule fires at: the months, days of the month and weekdays it
/// applies to, and the minutes of such a day. A schedule is the union of its rules; the same rules are
/// written out as systemd `OnCalendar=` lines.
struct CalendarRule: Sendable, Equatable {
    /// Bit `m` for month m (1–12).
    var months: UInt16 = 0b1_1111_1111_1110
    /// Bit `d` for day d of the month (1–31).
    var days: UInt32 = 0xFFFF_FFFE
    /// Bit `w` for weekday w (0 Sunday … 6 Saturday).
    var weekdays: UInt8 = 0x7F
    var minutes = MinuteSet()

    static let allMonths: UInt16 = 0b1_1111_1111_1110
    static let allDays: UInt32 = 0xFFFF_FFFE
    static let allWeekdays: UInt8 = 0x7F

    func applies(to day: CivilDay) -> Bool {
        months & (1 << UInt16(day.month)) != 0 && days & (1 << UInt32(day.day)) != 0
            && weekdays & (1 << UInt8(day.weekday)) != 0
    }

    var isEmpty: Bool { months == 0 || days == 0 || weekdays == 0 || minutes.isEmpty }
}

/// A set of the 1,440 minutes of a day.
struct MinuteSet: Sendable, Equatable {
    private var words = [UInt64](repeating: 0, count: 23)

    init() {}

    init(_ minutes: some Sequence<Int>) {
        for minute in minutes { insert(minute) }
    }

    mutating func insert(_ minute: Int) {
        guard (0..<1440).contains(minute) else { return }
        words[minute / 64] |= 1 << UInt64(minute % 64)
    }

    func contains(_ minute: Int) -> Bool {
        (0..<1440).contains(minute) && words[minute / 64] & (1 << UInt64(minute % 64)) != 0
    }

    func union(_ other: MinuteSet) -> MinuteSet {
        var result = self
        for index in words.indices { result.words[index] |= other.words[index] }
        return result
    }

    func filter(_ keep: (Int) -> Bool) -> MinuteSet {
        MinuteSet(ascending.filter(keep))
    }

    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    var ascending: [Int] {
        var minutes: [Int] = []
        for (index, word) in words.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { minutes.append(index * 64 + bit) }
        }
        return minutes
    }
}
