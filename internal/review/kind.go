package review

// SnapshotKind is what a published snapshot is for (DESIGN §5.5): a
// pre-assessment (预考核) gives feedback and warnings only; an assessment
// (考核) may also propose cases (§7.1).
type SnapshotKind string

// The snapshot kinds.
const (
	KindPreAssessment SnapshotKind = "pre_assessment"
	KindAssessment    SnapshotKind = "assessment"
)

// Valid reports whether k is a known kind.
func (k SnapshotKind) Valid() bool { return k == KindPreAssessment || k == KindAssessment }

// Chinese names the kind.
func (k SnapshotKind) Chinese() string {
	switch k {
	case KindPreAssessment:
		return "预考核"
	case KindAssessment:
		return "考核"
	}
	return string(k)
}
