package review_test

import (
	"slices"
	"testing"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/review"
)

func TestDueOffsets(t *testing.T) {
	due := civil.MustParse("2026-11-20")
	tests := []struct {
		name, created, today string
		want                 []int
	}{
		{"TooEarly", "2026-11-01", "2026-11-12", nil},
		{"SevenDays", "2026-11-01", "2026-11-13", []int{7}},
		{"ThreeDays", "2026-11-01", "2026-11-17", []int{7, 3}},
		{"OneDay", "2026-11-01", "2026-11-19", []int{7, 3, 1}},
		{"DueDay", "2026-11-01", "2026-11-20", []int{7, 3, 1}},
		{"PastDue", "2026-11-01", "2026-11-21", nil},
		{"CreatedFiveDaysBefore", "2026-11-15", "2026-11-19", []int{3, 1}},
		{"CreatedOnReminderDay", "2026-11-13", "2026-11-13", []int{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := review.DueOffsets(civil.MustParse(tt.created), due, civil.MustParse(tt.today))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestItemLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	yes, no := true, false
	it := &review.Item{ID: 1, CaseID: 2, Owner: "docA", State: review.ItemOpen, DueDate: civil.MustParse("2026-11-20")}
	conflict := func(t *testing.T, err error, state review.ItemState) {
		t.Helper()
		if e, _ := apperr.As(err); e == nil || e.Code != apperr.Conflict || e.Extra["state"] != state {
			t.Fatalf("err = %v, want conflict with state %s", err, state)
		}
	}
	t.Run("ErrVerifyOpen", func(t *testing.T) {
		_, err := (&review.Verify{Accepted: &yes}).Apply(it, "rev1", now)
		conflict(t, err, review.ItemOpen)
	})
	t.Run("ErrCloseWithoutEvidence", func(t *testing.T) {
		_, err := (&review.Close{}).Apply(it, "docA", now)
		if e, _ := apperr.As(err); e == nil || e.Fields[0].Field != "evidence" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Close", func(t *testing.T) {
		ev, err := (&review.Close{Evidence: "补录 32 份档案"}).Apply(it, "docA", now)
		if err != nil || it.State != review.ItemClosed || ev.To != "closed" || *ev.ItemID != 1 {
			t.Fatalf("err %v state %s event %+v", err, it.State, ev)
		}
	})
	t.Run("ErrCloseTwice", func(t *testing.T) {
		_, err := (&review.Close{Evidence: "again"}).Apply(it, "docA", now)
		conflict(t, err, review.ItemClosed)
	})
	t.Run("ErrRejectWithoutNote", func(t *testing.T) {
		_, err := (&review.Verify{Accepted: &no}).Apply(it, "rev1", now)
		if e, _ := apperr.As(err); e == nil || e.Fields[0].Field != "note" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Reject", func(t *testing.T) {
		if _, err := (&review.Verify{Accepted: &no, Note: "抽查 5 份仍缺体检"}).Apply(it, "rev1", now); err != nil || it.State != review.ItemReopened {
			t.Fatalf("err %v state %s", err, it.State)
		}
	})
	t.Run("CloseAgainAndAccept", func(t *testing.T) {
		if _, err := (&review.Close{Evidence: "已补齐"}).Apply(it, "docA", now); err != nil {
			t.Fatal(err)
		}
		if _, err := (&review.Verify{Accepted: &yes}).Apply(it, "rev1", now); err != nil || it.State != review.ItemVerified {
			t.Fatalf("err %v state %s", err, it.State)
		}
	})
	t.Run("ErrVerifyVerified", func(t *testing.T) {
		_, err := (&review.Verify{Accepted: &yes}).Apply(it, "rev1", now)
		conflict(t, err, review.ItemVerified)
	})
}

func TestNewItemValidate(t *testing.T) {
	today := civil.MustParse("2026-11-10")
	tests := []struct {
		name  string
		n     review.NewItem
		field string
	}{
		{"OK", review.NewItem{Owner: "docA", DueDate: today, Description: "补录"}, ""},
		{"ErrPast", review.NewItem{Owner: "docA", DueDate: today.AddDays(-1), Description: "补录"}, "due_date"},
		{"ErrNoOwner", review.NewItem{DueDate: today, Description: "补录"}, "owner"},
		{"ErrNoDescription", review.NewItem{Owner: "docA", DueDate: today}, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.n.Validate(today)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if e, _ := apperr.As(err); e == nil || e.Fields[0].Field != tt.field {
				t.Fatalf("err = %v, want %s", err, tt.field)
			}
		})
	}
}
