package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

// UsageReasons says, for each of the records ids that has dynamic records in
// the usage window ending on asOf none of which conforms to its service
// specification, why it is not used: each such record with the items it
// misses (DESIGN §5.3). Records without any dynamic record in the window
// are left out: "none in the window" needs no explaining. Called for one
// page of a drill-down, never by the report itself.
func (db *DB) UsageReasons(ctx context.Context, asOf civil.Date, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []entryRow
	if err := db.SelectContext(ctx, &rows, `SELECT `+entryColumns+` FROM entries e
		WHERE record_id = ANY($1) AND service_date BETWEEN $2::date - 364 AND $2::date AND NOT conforming
			AND NOT EXISTS (SELECT 1 FROM entries c WHERE c.corrects = e.id)
		ORDER BY record_id, service_date, id`, pq.Array(ids), asOf); err != nil {
		return nil, translate(err)
	}
	var exams []struct {
		RecordID string     `db:"record_id"`
		Date     civil.Date `db:"exam_date"`
		NoBP     bool       `db:"no_bp"`
		NoHeight bool       `db:"no_height"`
		NoWeight bool       `db:"no_weight"`
	}
	if err := db.SelectContext(ctx, &exams, `SELECT record_id, exam_date,
			NOT ((systolic IS NOT NULL AND diastolic IS NOT NULL) OR (systolic_right IS NOT NULL AND diastolic_right IS NOT NULL)) AS no_bp,
			height_cm IS NULL AS no_height, weight_kg IS NULL AS no_weight
		FROM exams WHERE record_id = ANY($1) AND exam_date BETWEEN $2::date - 364 AND $2::date
		ORDER BY record_id, exam_date, id`, pq.Array(ids), asOf); err != nil {
		return nil, translate(err)
	}
	notes := map[string][]string{}
	for _, r := range rows {
		e, err := r.toEntry()
		if err != nil {
			return nil, err
		}
		var labels []string
		for _, it := range entry.Missing(e) {
			labels = append(labels, it.Label)
		}
		notes[r.RecordID] = append(notes[r.RecordID], fmt.Sprintf("%s %s 缺少%s", entry.Kind(r.Kind).Chinese(), r.ServiceDate, strings.Join(labels, "、")))
	}
	for _, x := range exams {
		var labels []string
		for _, m := range []struct {
			missing bool
			label   string
		}{{x.NoBP, "血压"}, {x.NoHeight, "身高"}, {x.NoWeight, "体重"}} {
			if m.missing {
				labels = append(labels, m.label)
			}
		}
		if len(labels) > 0 {
			notes[x.RecordID] = append(notes[x.RecordID], fmt.Sprintf("健康体检 %s 缺少%s", x.Date, strings.Join(labels, "、")))
		}
	}
	for id, n := range notes {
		out[id] = fmt.Sprintf("统计窗口内有 %d 条服务记录，均不符合服务规范，不计入使用率：%s", len(n), strings.Join(n, "；"))
	}
	return out, nil
}
