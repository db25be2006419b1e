//! A workbook for people: a first sheet that says what the file is, then one
//! sheet per table with typed cells (dates as dates, numbers as numbers, money
//! as numbers in a £ format, RAG as its word on its colour), a bold frozen
//! header row with an autofilter, and columns wide enough to read. The file's
//! creation time is the time the log was last written, so the same log gives
//! the same bytes.

use super::sheet::{Book, Cell, Sheet};
use ragtrail_events::Rag;
use rust_xlsxwriter::{Color, DocProperties, Format, FormatBorder, Workbook, Worksheet, XlsxError};

/// The formats of one workbook.
struct Formats {
    header: Format,
    date: Format,
    instant: Format,
    pounds: Format,
    wrap: Format,
    label: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xF4F4F4))
                .set_border_bottom(FormatBorder::Thin),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            instant: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            pounds: Format::new().set_num_format("£#,##0.00;-£#,##0.00"),
            wrap: Format::new().set_text_wrap(),
            label: Format::new().set_bold(),
        }
    }
}

/// A RAG's cell format: its colour, with text that reads on it.
fn rag_format(r: Rag) -> Format {
    let (fill, ink) = match r {
        Rag::Red => (0xB71C1C, 0xFFFFFF),
        Rag::Amber => (0xFFD54F, 0x1A1A1A),
        Rag::Green => (0x1B5E20, 0xFFFFFF),
        Rag::Blue => (0x0D47A1, 0xFFFFFF),
        Rag::Unrated => (0xE6E6E6, 0x1A1A1A),
    };
    Format::new()
        .set_background_color(Color::RGB(fill))
        .set_font_color(Color::RGB(ink))
        .set_bold()
}

fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    f: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(t) if t.contains('\n') => {
            ws.write_string_with_format(row, col, t, &f.wrap)?;
        }
        Cell::Text(t) => {
            ws.write_string(row, col, t)?;
        }
        Cell::Id(id) => {
            ws.write_string(row, col, id.to_string())?;
        }
        Cell::Date(d) => {
            ws.write_datetime_with_format(row, col, d, &f.date)?;
        }
        Cell::Instant(t) => {
            ws.write_datetime_with_format(row, col, t.naive_utc(), &f.instant)?;
        }
        Cell::Int(n) => {
            ws.write_number(row, col, *n as f64)?;
        }
        Cell::Number(n) => {
            ws.write_number(row, col, *n)?;
        }
        Cell::Pence(p) => {
            ws.write_number_with_format(row, col, *p as f64 / 100.0, &f.pounds)?;
        }
        Cell::Rag(r) => {
            ws.write_string_with_format(row, col, r.word(), &rag_format(*r))?;
        }
        Cell::Bool(b) => {
            ws.write_boolean(row, col, *b)?;
        }
    }
    Ok(())
}

fn write_sheet(book: &mut Workbook, sheet: &Sheet, f: &Formats) -> Result<(), XlsxError> {
    let ws = book.add_worksheet();
    ws.set_name(&sheet.name)?;
    for (c, column) in sheet.columns.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, &column.name, &f.header)?;
        ws.set_column_width(c, column.width)?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            write_cell(ws, r as u32 + 1, c as u16, cell, f)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !sheet.columns.is_empty() {
        ws.autofilter(
            0,
            0,
            sheet.rows.len() as u32,
            sheet.columns.len() as u16 - 1,
        )?;
    }
    Ok(())
}

/// The XLSX bytes of a book: "About", then each table.
pub fn bytes(book: &Book) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title(&book.about.title)
            .set_author("ragtrail")
            .set_creation_datetime(&book.about.made_at),
    );
    let about = wb.add_worksheet();
    about.set_name("About")?;
    about.write_string_with_format(0, 0, &book.about.title, &f.label)?;
    for (i, (label, value)) in book.about.lines.iter().enumerate() {
        let r = i as u32 + 2;
        about.write_string_with_format(r, 0, label, &f.label)?;
        write_cell(about, r, 1, value, &f)?;
    }
    about.set_column_width(0, 28)?;
    about.set_column_width(1, 80)?;
    for sheet in &book.sheets {
        write_sheet(&mut wb, sheet, &f)?;
    }
    wb.save_to_buffer()
}
