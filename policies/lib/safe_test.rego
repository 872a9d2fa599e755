package mlgitops.lib.safe

test_get if {
	get({"a": {"b": 1}}, ["a", "b"], 0) == 1
	get({"a": null}, "a", 0) == 0
	get(null, "a", 0) == 0
	get("text", ["a"], 0) == 0
	get({"a": null}, ["a", "b"], 0) == 0
}

test_list if {
	list({"a": [1, 2]}, "a") == [1, 2]
	list({"a": null}, "a") == []
	list({"a": "x"}, "a") == []
	list(null, "a") == []
}

test_items_skip_non_objects if {
	items({"a": [{"x": 1}, null, "s"]}, "a") == [{"x": 1}]
}

test_dict if {
	dict({"a": {"x": 1}}, "a") == {"x": 1}
	dict({"a": [1]}, "a") == {}
}

test_text if {
	text({"a": "s"}, "a") == "s"
	text({"a": 7}, "a") == ""
	text(null, "a") == ""
}
