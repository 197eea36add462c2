package ident

// Level is the administrative level of a region code, told apart by length:
// county codes (GB/T 2260) have 6 digits, and GB/T 10114 appends 3 digits for
// the township and 3 more for the village (community).
type Level string

// The region levels a health record deals with. Province and prefecture codes
// are never valid here: records are filed at village level and aggregated up
// to the county.
const (
	LevelCounty   Level = "county"
	LevelTownship Level = "township"
	LevelVillage  Level = "village"
)

// Code lengths per level.
const (
	countyLen   = 6
	townshipLen = 9
	villageLen  = 12
)

// RegionLevel returns the level of code, or an *Error wrapping ErrFormat if
// code is not a plausible county, township or village code. Besides length
// and ASCII digits it rejects all-zero segments, which GB/T 2260 and
// GB/T 10114 never assign: province "00", prefecture "00", county "00" (a
// six-digit code ending in 00 names a prefecture or province, not a county),
// township "000" and village "000". Whether the code is actually assigned is
// for the caller to check against its region table.
func RegionLevel(code string) (Level, error) {
	var lvl Level
	switch len(code) {
	case countyLen:
		lvl = LevelCounty
	case townshipLen:
		lvl = LevelTownship
	case villageLen:
		lvl = LevelVillage
	default:
		return "", fieldErr(FieldCode, ErrFormat, "区划代码应为6、9或12位数字")
	}
	if !allDigits(code) {
		return "", fieldErr(FieldCode, ErrFormat, "区划代码只能包含数字")
	}
	switch {
	case code[0:2] == "00":
		return "", fieldErr(FieldCode, ErrFormat, "省级代码不能为00")
	case code[2:4] == "00":
		return "", fieldErr(FieldCode, ErrFormat, "地级代码不能为00")
	case code[4:6] == "00":
		return "", fieldErr(FieldCode, ErrFormat, "县级代码不能以00结尾")
	case len(code) >= townshipLen && code[6:9] == "000":
		return "", fieldErr(FieldCode, ErrFormat, "乡级代码段不能为000")
	case len(code) == villageLen && code[9:12] == "000":
		return "", fieldErr(FieldCode, ErrFormat, "村级代码段不能为000")
	}
	return lvl, nil
}

// ParentCode returns the code one level up: a village's township (first 9
// digits), a township's county (first 6). A county has no parent here, and an
// invalid code has none either, so both give "" — callers walking up the tree
// stop on "" instead of looping on garbage.
func ParentCode(code string) string {
	lvl, err := RegionLevel(code)
	if err != nil {
		return ""
	}
	switch lvl {
	case LevelVillage:
		return code[:townshipLen]
	case LevelTownship:
		return code[:countyLen]
	}
	return ""
}

// VillageClass is the kind of village-level unit, which GB/T 10114 encodes in
// the first digit of the last three: 0xx residents' committee (urban
// community), 1xx village committee (rural), 9xx other (farms, development
// zones and the like), as DESIGN §2.1 states the standard.
//
// The statistical division codes actually in use (国家统计局 2023) number
// village committees 200–399 and similar units 400–599, so real villages
// carry 2xx codes (淳安县: 330127101201 and the like). Those ranges are
// accepted too, as village committees and others, so that a real county's
// registry can be loaded unchanged.
type VillageClass string

// Village classes. The string values are stable and may be stored or sent
// over the API.
const (
	ClassResidentsCommittee VillageClass = "residents_committee"
	ClassVillageCommittee   VillageClass = "village_committee"
	ClassOther              VillageClass = "other"
)

// ClassOfVillage returns the class of a 12-digit village code, or an *Error
// wrapping ErrFormat if code is not a valid village code or its last three
// digits fall outside 001–099, 101–199, 201–399, 401–599 and 901–999. The
// "x00" values are rejected: 000 is the township itself, and the others are
// not assigned.
func ClassOfVillage(code string) (VillageClass, error) {
	lvl, err := RegionLevel(code)
	if err != nil {
		return "", err
	}
	if lvl != LevelVillage {
		return "", fieldErr(FieldCode, ErrFormat, "应为12位村级区划代码")
	}
	seg := code[9:12]
	if seg[1:] == "00" {
		return "", fieldErr(FieldCode, ErrFormat, "村级代码末三位不能为x00")
	}
	switch seg[0] {
	case '0':
		return ClassResidentsCommittee, nil
	case '1', '2', '3':
		return ClassVillageCommittee, nil
	case '4', '5', '9':
		return ClassOther, nil
	}
	return "", fieldErr(FieldCode, ErrFormat, "村级代码末三位应在001–099（居委会）、101–399（村委会）或401–599、901–999（其他）之间")
}

// Chinese returns the class's name as printed on forms and reports: 居委会,
// 村委会 or 其他; "" for an unknown class so a bad value shows as blank
// rather than as a misleading label.
func (c VillageClass) Chinese() string {
	switch c {
	case ClassResidentsCommittee:
		return "居委会"
	case ClassVillageCommittee:
		return "村委会"
	case ClassOther:
		return "其他"
	}
	return ""
}
