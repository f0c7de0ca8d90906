import Pipelines

/// Decides which inspected photos the dataset keeps, and in which split:
/// - the same bytes twice under one label are kept once;
/// - the same bytes under two labels are left out of both (they would teach two answers for one picture);
/// - labels with fewer than `min_images` images are dropped; fewer than `min_labels` labels left fails;
/// - the split comes from a hash of the label and the image's SHA-256, so adding or removing photos moves
///   no other photo; a label none of whose images hashes into training has its lowest-hashing one there.
struct PhotoSelection {
    let minImages: Int
    let minLabels: Int
    let shares: SplitShares

    struct Result {
        var kept: Int64
        var labels: Int64
        var duplicates: Int64
        var conflicts: Int64
        var dropped: [(label: String, images: Int64)]
    }

    func select(in scratch: PhotoScratch, logger: Logger) throws -> Result {
        try scratch.database.executeScript(
            """
            INSERT INTO excluded (seq, reason, detail)
            SELECT c.seq, COALESCE(CASE WHEN c.problem IS NOT NULL THEN 'no-label' END, i.reason),
                   COALESCE(c.problem, i.detail)
            FROM candidates c JOIN inspected i ON i.seq = c.seq
            WHERE c.problem IS NOT NULL OR i.reason IS NOT NULL;
            CREATE TEMP TABLE usable AS
                SELECT c.seq, c.label, c.asset, i.sha256, i.format FROM candidates c JOIN inspected i ON i.seq = c.seq
                WHERE c.problem IS NULL AND i.reason IS NULL;
            CREATE INDEX usable_label_sha ON usable (label, sha256);
            CREATE INDEX usable_seq ON usable (seq);
            CREATE TEMP TABLE firsts AS SELECT label, sha256, MIN(seq) AS seq FROM usable GROUP BY label, sha256;
            CREATE INDEX firsts_sha ON firsts (sha256);
            CREATE INDEX firsts_seq ON firsts (seq);
            INSERT INTO excluded (seq, reason, detail)
            SELECT u.seq, 'duplicate', 'the same bytes as asset ''' || f.asset || ''' under this label, kept once'
            FROM usable u JOIN firsts k ON k.label = u.label AND k.sha256 = u.sha256 JOIN usable f ON f.seq = k.seq
            WHERE u.seq <> k.seq;
            CREATE TEMP TABLE conflicts AS SELECT sha256 FROM firsts GROUP BY sha256 HAVING COUNT(*) > 1;
            INSERT INTO excluded (seq, reason, detail)
            SELECT u.seq, 'conflict', 'the same picture is also under label(s) ' ||
                   (SELECT substr(group_concat(o.label, ', '), 1, 300) FROM
                       (SELECT label FROM firsts o WHERE o.sha256 = u.sha256 AND o.label <> u.label ORDER BY label) o)
            FROM firsts u WHERE u.sha256 IN (SELECT sha256 FROM conflicts);
            CREATE TEMP TABLE survivors AS
                SELECT f.seq, f.label, f.sha256, u.format FROM firsts f JOIN usable u ON u.seq = f.seq
                WHERE f.sha256 NOT IN (SELECT sha256 FROM conflicts);
            CREATE INDEX survivors_label ON survivors (label)
            """)
        let duplicates = try scratch.count("SELECT COUNT(*) FROM excluded WHERE reason = 'duplicate'")
        let conflicts = try scratch.count("SELECT COUNT(*) FROM excluded WHERE reason = 'conflict'")

        // Every label some photo had, with how many images survived.
        var dropped: [(String, Int64)] = []
        var keptLabels: Int64 = 0
        try scratch.each(
            """
            SELECT l.label, (SELECT COUNT(*) FROM survivors s WHERE s.label = l.label)
            FROM (SELECT DISTINCT label FROM candidates WHERE label IS NOT NULL) l ORDER BY l.label
            """
        ) { row in
            let label = row.string(0) ?? ""
            let images = row.int64(1) ?? 0
            if images >= Int64(minImages) {
                keptLabels += 1
                try scratch.execute(
                    "INSERT INTO labels (label, folder, images, kept) VALUES ($1, $2, $3, 1)",
                    [.text(label), .text(try DatasetFolder.folderName(for: label)), .integer(images)])
            } else {
                dropped.append((label, images))
            }
        }
        try scratch.execute(
            """
            INSERT INTO excluded (seq, reason, detail)
            SELECT s.seq, 'label-too-small', 'label ''' || s.label || ''' has ' ||
                   (SELECT COUNT(*) FROM survivors o WHERE o.label = s.label) || ' usable image(s), fewer than min_images (' || $1 || ')'
            FROM survivors s WHERE s.label NOT IN (SELECT label FROM labels)
            """, [.text(String(minImages))])
        for (label, images) in dropped where images > 0 {
            logger.warning("photos.label-dropped", "label '\(label)' has \(images) usable image(s), fewer than min_images (\(minImages)): left out")
        }
        guard keptLabels >= Int64(minLabels) else {
            let shown = dropped.prefix(20).map { "\($0.0) (\($0.1))" }.joined(separator: ", ")
            let more = dropped.count > 20 ? " and \(dropped.count - 20) more" : ""
            throw PipelineError(
                .data,
                "only \(keptLabels) label(s) have at least \(minImages) usable image(s), fewer than min_labels (\(minLabels))"
                    + (dropped.isEmpty ? "" : "; labels that fell short (usable images): \(shown)\(more)")
                    + "; the report lists every photo left out and why")
        }
        try assignSplits(in: scratch)
        let kept = try scratch.count("SELECT COUNT(*) FROM kept")
        return Result(
            kept: kept, labels: keptLabels, duplicates: duplicates, conflicts: conflicts,
            dropped: dropped.map { (label: $0.0, images: $0.1) })
    }

    private func assignSplits(in scratch: PhotoScratch) throws {
        try scratch.each(
            """
            SELECT s.seq, s.label, l.folder, s.sha256, s.format FROM survivors s JOIN labels l ON l.label = s.label
            ORDER BY s.seq
            """
        ) { row in
            let label = row.string(1) ?? ""
            let folder = row.string(2) ?? ""
            let sha256 = row.string(3) ?? ""
            guard let format = row.string(4).flatMap(ImageHeader.Format.init(rawValue:)) else { return }
            let score = try Self.score(label: label, sha256: sha256)
            let split = shares.split(at: Int(score % 10_000))
            let name = DatasetFolder.fileName(sha256: sha256, format: format)
            try scratch.execute(
                """
                INSERT INTO kept (seq, label, folder, sha256, score, split, name, path)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                [
                    .integer(row.int64(0) ?? 0), .text(label), .text(folder), .text(sha256), .integer(score), .text(split),
                    .text(name), .text("\(split)/\(folder)/\(name)"),
                ])
        }
        try scratch.execute(
            """
            UPDATE kept SET split = 'train', path = 'train/' || folder || '/' || name
            WHERE seq IN (
                SELECT (SELECT k2.seq FROM kept k2 WHERE k2.label = k.label ORDER BY k2.score, k2.sha256 LIMIT 1)
                FROM kept k GROUP BY k.label HAVING SUM(k.split = 'train') = 0)
            """)
    }

    /// A stable number for a label's image: the first 6 bytes of SHA-256(label, newline, image SHA-256).
    static func score(label: String, sha256: String) throws -> Int64 {
        let hex = try SHA256.hex(of: "\(label)\n\(sha256)")
        return Int64(hex.prefix(12), radix: 16) ?? 0
    }
}
